// Placeholder: the implementation of pca.hpp lands with the Repair and compare work.
#include "vae/pca.hpp"
