// fashion_mnist_mpi initialises MPI (one rank of mpirun): support/mpi_mode.hpp.
#include "mpi_mode.hpp"

extern const bool example_uses_mpi = true;
