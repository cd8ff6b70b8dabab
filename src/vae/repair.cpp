// Placeholder: the implementation of repair.hpp lands with the Repair and compare work.
#include "vae/repair.hpp"
