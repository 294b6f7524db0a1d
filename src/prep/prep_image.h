/* prep_image.h: image data sets for `ardm prep -format png | cifar10` and PNG files for
   `ardm export -format png` (libpng). Images are stored channel-planar, x[e][c][y][x], K = 256,
   modality "image" with height/width/channels attributes (doc/formats.md). */
#ifndef ARDM_PREP_IMAGE_H
#define ARDM_PREP_IMAGE_H
#include "core/ardm.h"

typedef struct {
  const char *in, *out;
  int         height, width;         /* png: the size every image must have */
  double      valid_frac, test_frac; /* png without split folders: hashed shares; cifar10: valid_frac of train */
  uint64_t    seed;                  /* png: seed of the hashed split */
} prep_image_opts;

/* -format png: every *.png under -in (recursively, sorted by relative path). Grey is expanded
   to RGB and transparency flattened onto white (libpng's simplified API); an image of another
   size is an input error naming the file. Splits: when -in has train/, valid/ or test/
   subfolders the top folder names each file's split, else a hash of the relative path with
   the seed. No labels. Each rank decodes a contiguous share of the list. */
PetscErrorCode prep_png(MPI_Comm comm, const prep_image_opts *o);

/* -format cifar10: the CIFAR-10 binary version in -in: data_batch_1.bin .. data_batch_5.bin
   (train) and test_batch.bin (test), records of 1 label byte + 3072 bytes (1024 R, 1024 G,
   1024 B, rows top to bottom), which is already the channel-planar layout. valid is the last
   valid_frac of the train records (in file order). Labels are kept. */
PetscErrorCode prep_cifar10(MPI_Comm comm, const prep_image_opts *o);

/* Reads PATH as 8-bit RGB into rgb[3][height][width] (channel-planar). Returns 0, or 1 with a
   reason in why (not a PNG, wrong size, decode error). */
int png_read_planar(const char *path, int height, int width, uint8_t *rgb, char *why, size_t len);
/* Writes planar[channels][height][width] (channels 1 = grey, 3 = RGB) to PATH as an 8-bit PNG,
   through PATH.tmp.<pid> renamed when complete (removed on failure). Returns 0, or an errno
   value (ENOSPC on a full disk; EIO for a libpng error) with the reason in why. */
int png_write_planar(const char *path, int height, int width, int channels, const uint8_t *planar, char *why,
                     size_t len);
#endif
