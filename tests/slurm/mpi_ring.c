/* mpi_ring.c: a tiny MPI program for the Slurm tests (built by the test with mpicc). Every rank
   passes a token once around the ring and joins an allreduce, then prints one line
   "rank R of P sum S token T" where S = 1 + 2 + ... + P and T = R + 1 on ranks R > 0 and
   T = P on rank 0 (the token came back) when messages really travelled between the ranks. */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char **argv)
{
  int rank, size, sum = 0, token = 0, one;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  one = rank + 1;
  MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  /* ring: rank 0 starts with 1, every rank adds 1 and passes on; rank 0 receives P */
  if (size == 1) token = 1;
  else if (rank == 0) {
    token = 1;
    MPI_Send(&token, 1, MPI_INT, 1, 0, MPI_COMM_WORLD);
    MPI_Recv(&token, 1, MPI_INT, size - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  } else {
    MPI_Recv(&token, 1, MPI_INT, rank - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    token++;
    MPI_Send(&token, 1, MPI_INT, (rank + 1) % size, 0, MPI_COMM_WORLD);
  }
  printf("rank %d of %d sum %d token %d\n", rank, size, sum, token);
  MPI_Finalize();
  return 0;
}
