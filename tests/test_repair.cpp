// Tests of vae/repair.hpp.
#include <catch2/catch.hpp>
