/* kernels_attn.c — fused multi-head attention: scores, mask, softmax, weighted sum.
 *
 * Layout: q (B, Tq, H*D), k and v (B, Tk, H*D), out (B, Tq, H*D). Head h of
 * batch b is the column block [h*D, h*D + D) of rows b*T.., so every product
 * is one sgemm per (b, h) with leading dimension H*D: no gather, no permute.
 *
 * saved (floats):
 *   P   (B, H, Tq, Tk)   softmax probabilities (0 where masked)
 *   with rope:   qr (B, Tq, H*D), kr (B, Tk, H*D)  rotated q, k
 *   with rope_v: vr (B, Tk, H*D)                   rotated v
 *   with either: cq (B, Tq, D), ck (B, Tk, D)      cos/sin tables, the pair
 *                                                  (cos, sin) of frequency i
 *                                                  at [2i, 2i+1]
 * work (backward, floats):
 *   dS  (B, H, Tq, Tk)   dscores;  with rope: dqr, dkr; with rope_v: dvr
 *                        (gradients in the rotated frame, same shapes as qr...);
 *                        with rope_out: dout turned to the unrotated frame
 * Time rotary (qtime, ktime) only changes how the cos/sin tables are made.
 *
 * The (b, h) loop runs in parallel; each (b, h) touches only its own column
 * block of q/k/v gradients and its own P/dS slice, so there are no shared
 * reductions and the result does not depend on the thread count.
 * With default positions, causal and window masks make whole blocks of the
 * score matrix invisible: rows are taken in blocks of ROWBLK and each block's
 * products cover only the key range it can see (about half the flops when
 * causal).
 */
#include "ax_kernels.h"
#include "ax_math.h"

#include <math.h>
#include <string.h>

#include <cblas.h>
#include <omp.h>

#define ROWBLK 32

static size_t attn_offsets(const struct ax_attn_desc *d, size_t *oqr, size_t *okr, size_t *ovr,
			   size_t *ocq, size_t *ock)
{
	size_t B = d->B, Tq = d->Tq, Tk = d->Tk, HD = (size_t)d->H * d->D, D = d->D;
	size_t n = B * d->H * Tq * Tk;
	*oqr = *okr = *ovr = *ocq = *ock = 0;
	if (d->rope) {
		*oqr = n, n += B * Tq * HD;
		*okr = n, n += B * Tk * HD;
	}
	if (d->rope_v)
		*ovr = n, n += B * Tk * HD;
	if (d->rope || d->rope_v || d->rope_out) {
		*ocq = n, n += B * Tq * D;
		*ock = n, n += B * Tk * D;
	}
	return n;
}

size_t ax_attn_saved_size(const struct ax_attn_desc *d)
{
	size_t a, b, c, e, f;
	return attn_offsets(d, &a, &b, &c, &e, &f);
}

size_t ax_attn_work_size(const struct ax_attn_desc *d)
{
	size_t B = d->B, Tq = d->Tq, Tk = d->Tk, HD = (size_t)d->H * d->D;
	size_t n = B * d->H * Tq * Tk;
	if (d->rope)
		n += B * Tq * HD + B * Tk * HD;
	if (d->rope_v)
		n += B * Tk * HD;
	if (d->rope_out)
		n += B * Tq * HD;
	return n;
}

static inline int qpos_of(const struct ax_attn_desc *d, int b, int i)
{
	return d->qpos ? d->qpos[(size_t)b * d->Tq + i] : i + d->Tk - d->Tq;
}

static inline int kpos_of(const struct ax_attn_desc *d, int b, int j)
{
	return d->kpos ? d->kpos[(size_t)b * d->Tk + j] : j;
}

double ax_rope_time_freq(int i, int D, double tmin, double tmax)
{
	tmin = tmin > 0 ? tmin : 1e-4;
	tmax = tmax > 0 ? tmax : 4.0;
	if (i >= D / 4)
		return 0.0;
	return 2.0 * M_PI / (tmin * pow(tmax / tmin, 4.0 * i / D));
}

// tab (B, T, D): (cos, sin) of angle_i at [2i, 2i+1]: pos * base^(-2i/D), or
// with times time * ax_rope_time_freq(i). Angles in double so large positions
// keep their precision. Without explicit positions or times every batch row
// has the same table: compute once, copy.
static void rope_table(const struct ax_attn_desc *d, int T, const int32_t *pos,
		       const float *time, int def_off, float *tab)
{
	int D = d->D;
	double base = d->rope_base > 0 ? d->rope_base : 10000.0, inv[D / 2];
	for (int i = 0; i < D / 2; i++)
		inv[i] = time ? ax_rope_time_freq(i, D, d->rope_tmin, d->rope_tmax)
			      : pow(base, -2.0 * i / D);
	int nb = pos || time ? d->B : 1;
#pragma omp parallel for schedule(static) if ((long)nb * T * D > 16384)
	for (int bt = 0; bt < nb * T; bt++) {
		double p = time ? (double)time[bt] : pos ? pos[bt] : bt + def_off;
		float *r = tab + (size_t)bt * D;
		for (int i = 0; i < D / 2; i++) {
			double sn, cs;
			sincos(p * inv[i], &sn, &cs);
			r[2 * i] = (float)cs;
			r[2 * i + 1] = (float)sn;
		}
	}
	if (nb == 1)
		for (int b = 1; b < d->B; b++)
			memcpy(tab + (size_t)b * T * D, tab, (size_t)T * D * sizeof(float));
}

// y (B, T, H*D) from x by the rotations of tab (B, T, D), pair (2i, 2i+1)
// by angle i: ROT_FWD y = R x; ROT_BACK y += R^T x, the backward of the
// rotation (its transpose is its inverse, the angle negated); ROT_INV
// y = R^T x. y may be x except for ROT_BACK.
enum rot_mode { ROT_FWD, ROT_BACK, ROT_INV };
static void rope_apply(int BT, int H, int D, const float *tab, const float *x, float *y,
		       enum rot_mode mode)
{
#pragma omp parallel for schedule(static) if ((long)BT * H * D > 32768)
	for (int r = 0; r < BT; r++) {
		const float *c = tab + (size_t)r * D;
		for (int h = 0; h < H; h++) {
			const float *xr = x + ((size_t)r * H + h) * D;
			float *yr = y + ((size_t)r * H + h) * D;
			for (int i = 0; i < D; i += 2) {
				float x0 = xr[i], x1 = xr[i + 1], co = c[i], si = c[i + 1];
				if (mode == ROT_BACK) {
					yr[i] += x0 * co + x1 * si;
					yr[i + 1] += -x0 * si + x1 * co;
				} else if (mode == ROT_INV) {
					yr[i] = x0 * co + x1 * si;
					yr[i + 1] = -x0 * si + x1 * co;
				} else {
					yr[i] = x0 * co - x1 * si;
					yr[i + 1] = x0 * si + x1 * co;
				}
			}
		}
	}
}

// Keys [*jlo, *jhi) hold every key rows [i0, i1) may see (a superset).
static void key_range(const struct ax_attn_desc *d, int i0, int i1, int *jlo, int *jhi)
{
	*jlo = 0, *jhi = d->Tk;
	if (d->qpos || d->kpos)
		return; // arbitrary positions: no structure to exploit
	int off = d->Tk - d->Tq; // query i sits at position i + off
	if (d->causal)
		*jhi = AX_MAX(0, AX_MIN(d->Tk, i1 + off));
	if (d->window > 0)
		*jlo = AX_MIN(d->Tk, AX_MAX(0, i0 + off - d->window + 1));
	if (*jlo > *jhi)
		*jlo = *jhi;
}

// Softmax of s[lo, hi) in place (entries of -inf are hidden keys), zeros in
// the rest of the row [0, Tk). A row with nothing visible becomes all zeros.
static void softmax_span(float *s, int Tk, int lo, int hi)
{
	float mx = ax_maxf(hi - lo, s + lo);
	memset(s, 0, (size_t)lo * sizeof(float));
	memset(s + hi, 0, (size_t)(Tk - hi) * sizeof(float));
	if (mx == -INFINITY) {
		memset(s + lo, 0, (size_t)(hi - lo) * sizeof(float));
		return;
	}
	for (int j = lo; j < hi; j++) // [vec]
		s[j] = s[j] == -INFINITY ? 0.0f : ax_expf(s[j] - mx);
	float inv = 1.0f / ax_sumf(hi - lo, s + lo);
	for (int j = lo; j < hi; j++) // [vec]
		s[j] *= inv;
}

// Mask and softmax rows [i0, i1) of one (b, h) score block S (Tq, Tk) in
// place; only columns [jlo, jhi) were computed, the rest become 0.
static void mask_softmax(const struct ax_attn_desc *d, int b, int i0, int i1, int jlo, int jhi,
			 float *S)
{
	int Tq = d->Tq, Tk = d->Tk;
	const uint8_t *kp = d->key_pad ? d->key_pad + (size_t)b * Tk : NULL;
	const uint8_t *mk = d->mask ? d->mask + (d->mask_per_batch ? (size_t)b * Tq * Tk : 0)
				    : NULL;
	if (!d->qpos && !d->kpos && !kp && !mk) {
		// Default positions, no masks (plain causal or sliding-window
		// self-attention): each row sees one contiguous range of keys.
		for (int i = i0; i < i1; i++) {
			int qp = i + Tk - Tq, lo = jlo, hi = jhi;
			if (d->causal)
				hi = AX_MIN(hi, qp + 1);
			if (d->window > 0)
				lo = AX_MAX(lo, qp - d->window + 1);
			softmax_span(S + (size_t)i * Tk, Tk, lo, AX_MAX(lo, hi));
		}
		return;
	}
	int needpos = d->causal || d->window > 0;
	for (int i = i0; i < i1; i++) {
		float *s = S + (size_t)i * Tk;
		int qp = needpos ? qpos_of(d, b, i) : 0;
		for (int j = jlo; j < jhi; j++) {
			int ok = 1;
			if (needpos) {
				int kp_ = kpos_of(d, b, j);
				if (d->causal && kp_ > qp)
					ok = 0;
				if (d->window > 0 && qp - kp_ >= d->window)
					ok = 0;
			}
			if (kp && kp[j])
				ok = 0;
			if (mk && !mk[(size_t)i * Tk + j])
				ok = 0;
			if (!ok)
				s[j] = -INFINITY;
		}
		softmax_span(s, Tk, jlo, jhi);
	}
}

// One (b, h): q, k, v point at the head's first element (row stride HD).
static void fwd_bh(const struct ax_attn_desc *d, int b, float scale, const float *q,
		   const float *k, const float *v, float *P, float *out)
{
	int Tq = d->Tq, Tk = d->Tk, D = d->D, HD = d->H * d->D;
	for (int i0 = 0; i0 < Tq; i0 += ROWBLK) {
		int i1 = AX_MIN(Tq, i0 + ROWBLK), m = i1 - i0, jlo, jhi;
		key_range(d, i0, i1, &jlo, &jhi);
		float *Pb = P + (size_t)i0 * Tk;
		// S[i0:i1, jlo:jhi] = scale * Q[i0:i1] K[jlo:jhi]^T
		if (jhi > jlo)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, jhi - jlo, D, scale,
				    q + (size_t)i0 * HD, HD, k + (size_t)jlo * HD, HD, 0.0f,
				    Pb + jlo, Tk);
		mask_softmax(d, b, i0, i1, jlo, jhi, P);
		// out[i0:i1] = P[i0:i1, jlo:jhi] V[jlo:jhi]
		float *ob = out + (size_t)i0 * HD;
		if (jhi > jlo)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, D, jhi - jlo, 1.0f,
				    Pb + jlo, Tk, v + (size_t)jlo * HD, HD, 0.0f, ob, HD);
		else
			for (int i = 0; i < m; i++)
				memset(ob + (size_t)i * HD, 0, (size_t)D * sizeof(float));
	}
}

// One (b, h) backward; gq, gk, gv (may be NULL) are accumulated (beta 1).
static void bwd_bh(const struct ax_attn_desc *d, float scale, const float *q, const float *k,
		   const float *v, const float *P, const float *dout, float *dS, float *gq,
		   float *gk, float *gv)
{
	int Tq = d->Tq, Tk = d->Tk, D = d->D, HD = d->H * d->D;
	for (int i0 = 0; i0 < Tq; i0 += ROWBLK) {
		int i1 = AX_MIN(Tq, i0 + ROWBLK), m = i1 - i0, jlo, jhi;
		key_range(d, i0, i1, &jlo, &jhi);
		int n = jhi - jlo;
		if (n == 0)
			continue;
		const float *Pb = P + (size_t)i0 * Tk + jlo;
		const float *go = dout + (size_t)i0 * HD;
		float *g = dS + (size_t)i0 * Tk + jlo;
		// dv[jlo:jhi] += P^T dout
		if (gv)
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, D, m, 1.0f, Pb, Tk,
				    go, HD, 1.0f, gv + (size_t)jlo * HD, HD);
		if (!gq && !gk)
			continue;
		// dP = dout V^T, then dS = P * (dP - rowsum(P * dP))
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, D, 1.0f, go, HD,
			    v + (size_t)jlo * HD, HD, 0.0f, g, Tk);
		for (int i = 0; i < m; i++) {
			const float *p = Pb + (size_t)i * Tk;
			float *gr = g + (size_t)i * Tk;
			float dot = ax_dotf(n, p, gr);
			for (int j = 0; j < n; j++) // [vec]
				gr[j] = p[j] * (gr[j] - dot);
		}
		// dq[i0:i1] += scale dS K;  dk[jlo:jhi] += scale dS^T Q
		if (gq)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, D, n, scale, g, Tk,
				    k + (size_t)jlo * HD, HD, 1.0f, gq + (size_t)i0 * HD, HD);
		if (gk)
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, D, m, scale, g, Tk,
				    q + (size_t)i0 * HD, HD, 1.0f, gk + (size_t)jlo * HD, HD);
	}
}

// Split the (b, h) pairs across the OpenMP team with single-threaded sgemms
// when there are threads to use. Without a team the loop still runs in an
// (inactive) parallel region, where OpenBLAS's threads would be a nested
// team that libgomp starts anew on every call: OpenBLAS is kept
// single-threaded whenever there are several threads.
static int team_mode(int nbh)
{
	return omp_get_max_threads() > 1 && nbh >= omp_get_max_threads();
}

void ax_attn_forward(const struct ax_attn_desc *d, const float *q, const float *k,
		     const float *v, float *out, float *saved)
{
	int B = d->B, Tq = d->Tq, Tk = d->Tk, H = d->H, D = d->D, HD = H * D;
	AX_ASSERT(B > 0 && Tq > 0 && Tk > 0 && H > 0 && D > 0 && "attn: bad shape");
	int rot = d->rope || d->rope_v || d->rope_out;
	AX_ASSERT((!rot || D % 2 == 0) && "attn: rope needs an even head dim");
	AX_ASSERT(!d->qtime == !d->ktime && "attn: qtime and ktime go together");
	float scale = d->scale != 0 ? d->scale : 1.0f / sqrtf((float)D);
	size_t oqr, okr, ovr, ocq, ock;
	attn_offsets(d, &oqr, &okr, &ovr, &ocq, &ock);
	if (rot) {
		rope_table(d, Tk, d->kpos, d->ktime, 0, saved + ock);
		if (!d->qpos && !d->kpos && Tq == Tk && (!d->qtime || d->qtime == d->ktime))
			// self-attention: same positions
			memcpy(saved + ocq, saved + ock, (size_t)B * Tq * D * sizeof(float));
		else
			rope_table(d, Tq, d->qpos, d->qtime, Tk - Tq, saved + ocq);
	}
	if (d->rope) {
		rope_apply(B * Tq, H, D, saved + ocq, q, saved + oqr, ROT_FWD);
		rope_apply(B * Tk, H, D, saved + ock, k, saved + okr, ROT_FWD);
		q = saved + oqr;
		k = saved + okr;
	}
	if (d->rope_v) {
		rope_apply(B * Tk, H, D, saved + ock, v, saved + ovr, ROT_FWD);
		v = saved + ovr;
	}
	int team = team_mode(B * H), nt = omp_get_max_threads();
	int prev = nt > 1 ? ax_blas_serial_begin() : 0;
#pragma omp parallel for schedule(static) num_threads(nt) if (team)
	for (int bh = 0; bh < B * H; bh++) {
		int b = bh / H, h = bh % H;
		size_t qo = (size_t)b * Tq * HD + h * D, ko = (size_t)b * Tk * HD + h * D;
		fwd_bh(d, b, scale, q + qo, k + ko, v + ko, saved + (size_t)bh * Tq * Tk, out + qo);
	}
	if (nt > 1)
		ax_blas_serial_end(prev);
	if (d->rope_out)
		rope_apply(B * Tq, H, D, saved + ocq, out, out, ROT_INV);
}

void ax_attn_backward(const struct ax_attn_desc *d, const float *q, const float *k,
		      const float *v, const float *saved, const float *dout, float *dq,
		      float *dk, float *dv, float *work)
{
	int B = d->B, Tq = d->Tq, Tk = d->Tk, H = d->H, D = d->D, HD = H * D;
	float scale = d->scale != 0 ? d->scale : 1.0f / sqrtf((float)D);
	size_t oqr, okr, ovr, ocq, ock;
	attn_offsets(d, &oqr, &okr, &ovr, &ocq, &ock);
	size_t nS = (size_t)B * H * Tq * Tk, nq = (size_t)B * Tq * HD, nk = (size_t)B * Tk * HD;
	if (d->rope_out) { // out = R^T out_raw: dout_raw = R dout
		float *g = work + nS + (d->rope ? nq + nk : 0) + (d->rope_v ? nk : 0);
		rope_apply(B * Tq, H, D, saved + ocq, dout, g, ROT_FWD);
		dout = g;
	}
	// with rotation, gradients are first summed in the rotated frame in
	// (zeroed) work, then rotated back and added
	float *gq = dq, *gk = dk, *gv = dv;
	if (d->rope) {
		q = saved + oqr;
		k = saved + okr;
		gq = dq ? work + nS : NULL;
		gk = dk ? work + nS + nq : NULL;
		if (gq)
			memset(gq, 0, nq * sizeof(float));
		if (gk)
			memset(gk, 0, nk * sizeof(float));
	}
	if (d->rope_v) {
		v = saved + ovr;
		gv = dv ? work + nS + (d->rope ? nq + nk : 0) : NULL;
		if (gv)
			memset(gv, 0, nk * sizeof(float));
	}
	int team = team_mode(B * H), nt = omp_get_max_threads();
	int prev = nt > 1 ? ax_blas_serial_begin() : 0;
#pragma omp parallel for schedule(static) num_threads(nt) if (team)
	for (int bh = 0; bh < B * H; bh++) {
		int b = bh / H, h = bh % H;
		size_t qo = (size_t)b * Tq * HD + h * D, ko = (size_t)b * Tk * HD + h * D;
		bwd_bh(d, scale, q + qo, k + ko, v + ko, saved + (size_t)bh * Tq * Tk, dout + qo,
		       work + (size_t)bh * Tq * Tk, gq ? gq + qo : NULL, gk ? gk + ko : NULL,
		       gv ? gv + ko : NULL);
	}
	if (nt > 1)
		ax_blas_serial_end(prev);
	if (d->rope) {
		if (dq)
			rope_apply(B * Tq, H, D, saved + ocq, gq, dq, ROT_BACK);
		if (dk)
			rope_apply(B * Tk, H, D, saved + ock, gk, dk, ROT_BACK);
	}
	if (d->rope_v && dv)
		rope_apply(B * Tk, H, D, saved + ock, gv, dv, ROT_BACK);
}
