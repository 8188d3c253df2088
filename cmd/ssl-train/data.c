/* data.c — Fashion-MNIST from Debian's IDX files, and the fixed subset. */
#include "ssl.h"

#include <math.h>
#include <string.h>

enum ax_status ssl_data_load(struct ssl_data *d, const char *dir, const char *split, int limit)
{
	memset(d, 0, sizeof *d);
	struct ax_array im, lb;
	enum ax_status st = ax_idx_load_labelled(dir, split, SSL_SIDE, SSL_CLASSES, limit, &im, &lb);
	if (st)
		return st;
	d->n = (int)im.shape[0];
	d->x = im.data;   /* the first n images of the array */
	d->y = ax_xmalloc((size_t)d->n * sizeof(int32_t));
	const uint8_t *lab = lb.data;
	for (int i = 0; i < d->n; i++)
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
