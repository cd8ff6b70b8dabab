// Tests of vae/digits.hpp.
#include <catch2/catch.hpp>
