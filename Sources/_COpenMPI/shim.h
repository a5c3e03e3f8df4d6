// _COpenMPI: Debian's Open MPI (libopenmpi-dev), found through pkg-config's `ompi-c`.
//
// Only _MPIShim includes mpi.h; this system library target exists to carry the compile and link
// flags (-I/usr/lib/x86_64-linux-gnu/openmpi/include..., -lmpi) to it. `ompi-c` rather than `mpi-c`:
// the latter is a Debian alternative that may point to MPICH when both are installed, while the shim
// reads Open MPI's launch environment and its facts are Open MPI's.
#include <mpi.h>
