// fashion_mnist_parallel never initialises MPI (one process on threads): support/mpi_mode.hpp.
#include "mpi_mode.hpp"

extern const bool example_uses_mpi = false;
