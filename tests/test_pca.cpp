// Tests of vae/pca.hpp.
#include <catch2/catch.hpp>
