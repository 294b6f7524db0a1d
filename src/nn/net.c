/* net.c: the one generic operation every network shares (nn/net.h). */
#include "nn/net.h"
#include <string.h>

void network_free(network *n)
{
  if (n->ops && n->impl) n->ops->free(n->impl);
  memset(n, 0, sizeof *n);
}
