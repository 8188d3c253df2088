/* data.c — Fashion-MNIST from Debian's IDX files, and the fixed subset. */
#include "ssl.h"

#include <math.h>
#include <string.h>

enum ax_status ssl_data_load(struct ssl_data *d, const char *dir, const char *split, int limit)
{
	char ipath[4096], lpath[4096];
	snprintf(ipath, sizeof ipath, "%s/%s-images-idx3-ubyte.gz", dir, split);
	snprintf(lpath, sizeof lpath, "%s/%s-labels-idx1-ubyte.gz", dir, split);
	memset(d, 0, sizeof *d);
	struct ax_array im = { 0 }, lb = { 0 };
	enum ax_status st = ax_idx_load(ipath, &im);
	if (!st)
		st = ax_idx_load(lpath, &lb);
	if (!st && (im.dtype != AX_U8 || im.ndim != 3 || im.shape[1] != SSL_SIDE ||
		    im.shape[2] != SSL_SIDE || im.shape[0] < 1))
		st = ax_error_set(AX_ERR_FORMAT, "%s: not 28x28 byte images", ipath);
	if (!st && (lb.dtype != AX_U8 || lb.ndim != 1 || lb.shape[0] != im.shape[0]))
		st = ax_error_set(AX_ERR_FORMAT, "%s: not one byte label per image of %s", lpath,
				  ipath);
	if (st) {
		ax_array_free(&im), ax_array_free(&lb);
		return st;
	}
	int n = (int)im.shape[0];
	if (limit > 0 && limit < n)
		n = limit;
	const uint8_t *lab = lb.data;
	for (int i = 0; i < n; i++)
		if (lab[i] >= SSL_CLASSES) {
			st = ax_error_set(AX_ERR_FORMAT, "%s: label %d of image %d is not a class 0..9",
					  lpath, lab[i], i);
			ax_array_free(&im), ax_array_free(&lb);
			return st;
		}
	d->n = n;
	d->x = im.data;   /* the first n images of the array */
	d->y = ax_xmalloc((size_t)n * sizeof(int32_t));
	for (int i = 0; i < n; i++)
		d->y[i] = lab[i];
	ax_array_free(&lb);
	return AX_OK;
}

void ssl_data_subset(struct ssl_data *d, double frac, uint64_t seed)
{
	int k = (int)lround(frac * d->n);
	if (k < 1)
		k = 1;
	if (k >= d->n)
		return;
	struct ax_rng r;
	ax_rng_seed(&r, seed);
	int32_t *idx = ax_xmalloc((size_t)d->n * sizeof(int32_t));
	for (int i = 0; i < d->n; i++)
		idx[i] = i;
	ax_rng_shuffle_head(&r, idx, d->n, k);
	uint8_t *keep = ax_xmalloc((size_t)d->n);
	memset(keep, 0, (size_t)d->n);
	for (int i = 0; i < k; i++)
		keep[idx[i]] = 1;
	int j = 0;
	for (int i = 0; i < d->n; i++)
		if (keep[i]) {
			memmove(d->x + (size_t)j * SSL_PIXELS, d->x + (size_t)i * SSL_PIXELS, SSL_PIXELS);
			d->y[j++] = d->y[i];
		}
	d->n = k;
	free(idx), free(keep);
}

void ssl_data_free(struct ssl_data *d)
{
	free(d->x), free(d->y);
	memset(d, 0, sizeof *d);
}

void ssl_data_images(const struct ssl_data *d, const int32_t *idx, int n, float *x)
{
	for (int i = 0; i < n; i++) {
		const uint8_t *p = d->x + (size_t)idx[i] * SSL_PIXELS;
		for (int k = 0; k < SSL_PIXELS; k++)
			x[(size_t)i * SSL_PIXELS + k] = p[k] / 255.0f;
	}
}
