/* spike.h — spike-sim: simulated neural recordings with known ground truth.
 * Each section names the file that defines it:
 *   ibl.c     IBL-like binned sessions: multi-region coupled latent dynamics,
 *             Poisson counts, behaviour, true rates
 *   reach.c   centre-out reaching sessions: cosine-tuned units, spike times
 *             at 1 ms, hand velocity
 *   main.c    the command line only
 *
 * Both write one safetensors bundle per session into --out DIR
 * (session-000.safetensors, ...). The "world" (dynamics, behaviour read-outs,
 * tuning law) is drawn from --seed and shared by all sessions; each session
 * draws its own neurons and trials from an independent stream split off
 * the seed, so session k is the same whatever --sessions is.
 * The bundle layouts are documented in spike-sim(1).
 */
#ifndef SPIKE_H
#define SPIKE_H

#include "ax_cli.h"
#include "ax_io.h"
#include "ax_rng.h"

/* Fast shared variability: SPIKE_FAST_RANK white factors per region and bin. */
enum { SPIKE_FAST_RANK = 2 };

/* ibl wheel speed definitions (ibl.c): the bundle's "wheel" metadata key
 * names the one that made it; bundles without the key are SPIKE_WHEEL_ABS. */
enum spike_wheel { SPIKE_WHEEL_SOFTPLUS, SPIKE_WHEEL_ABS };
extern const char *const spike_wheel_names[];   /* NULL-terminated */

struct spike_opts {
	const char *out;
	int sessions, trials, regions, neurons, latents, rank, bins, units, quiet;
	enum spike_wheel wheel;
	double coupling, gain, tau, baseline, fast;
	uint64_t seed;
	int animal;      /* reach: 0 the default unit statistics, else another animal's */
};

/* Zeroed arrays (exit 1 "out of memory" when a flag asks too much). */
static inline float *spike_floats(size_t n) { return ax_xcalloc(n, sizeof(float)); }
static inline int32_t *spike_ints(size_t n) { return ax_xcalloc(n, sizeof(int32_t)); }

/* ---- ibl.c ---- */
/* The world: per-region rate RNNs coupled through low-rank matrices, with a
 * stimulus entering region 0 and the block prior entering the last region;
 * behaviour read-outs from the latents. Latents z = tanh(x). */
struct spike_ibl_world {
	int R, K, rank;
	float alpha;     /* dt / tau of the latent dynamics */
	float *W;        /* (R, K, K) recurrent weights, g * N(0, 1/K) */
	float *U, *V;    /* (R, R, K, rank) coupling r <- s: U_rs V_rs^T z_s */
	float *stim_in;  /* (K) stimulus input direction into region 0 */
	float *block_in; /* (K) block-prior input into region R-1 */
	float *choice_w; /* (R*K) choice read-out */
	float *wheel_v;  /* (R*K) wheel read-out */
};
void spike_ibl_world_make(struct spike_ibl_world *w, const struct spike_opts *o);
void spike_ibl_world_free(struct spike_ibl_world *w);
/* Session `session` of the world into path (atomically). */
enum ax_status spike_ibl_session(const struct spike_ibl_world *w, const struct spike_opts *o,
				 int session, const char *path);

/* ---- reach.c ---- */
enum ax_status spike_reach_session(const struct spike_opts *o, int session, const char *path);

#endif
