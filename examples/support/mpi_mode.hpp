// examples/fashion_mnist_parallel.cpp, compiled with CTGRAD_HAVE_MPI, is linked into two programs:
// fashion_mnist_mpi (with mpi_on.cpp: MPI_Init, one rank of mpirun) and fashion_mnist_parallel
// (with mpi_off.cpp: one process on threads, MPI never initialised). One object for both: the
// file is compiled once per build (examples/meson.build).
#pragma once

extern const bool example_uses_mpi;
