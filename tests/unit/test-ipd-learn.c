/* test-ipd-learn.c — ipd-learn's environments, batch lambda returns, naive
 * learners, meta network, the analytic IPD and its checkpoint settings. The command's sources that
 * hold no main() are compiled in here. */
#include "testutil.h"

#include "../../cmd/ipd-learn/analytic.c"
#include "../../cmd/ipd-learn/env.c"
#include "../../cmd/ipd-learn/env_cleanup.c"
#include "../../cmd/ipd-learn/env_ipd.c"
#include "../../cmd/ipd-learn/model.c"
#include "../../cmd/ipd-learn/naive.c"
#include "../../cmd/ipd-learn/returns.c"
#include "../../cmd/ipd-learn/settings.c"
#include "../../cmd/ipd-learn/train.c"

#include <math.h>
#include <string.h>

#define NAIVE_LR 8.0f /* plain SGD step at which two tabular learners defect in 20 episodes */
static const float PAYOFF[2][2] = { { 1.0f, -1.0f }, { 2.0f, 0.0f } };

/* ---- IPD ---- */

static void test_ipd_payoffs_and_views(void **state)
{
	(void)state;
	struct ipd_env e;
	struct ipd_env_counts c[1];
	memset(c, 0, sizeof c);
	ipd_env_init(&e, IPD_ENV_IPD, 4, PAYOFF);
	struct ax_rng r;
	ax_rng_seed(&r, 1);
	ipd_env_reset(&e, &r);
	int a0[4] = { 0, 0, 1, 1 }, a1[4] = { 0, 1, 0, 1 };
	float r0[4], r1[4], obs[4 * IPD_OBS];
	ipd_env_observe(&e, 0, obs);
	for (int i = 0; i < 4; i++)
		assert_true(obs[i * IPD_OBS + 0] == 1.0f);   /* start state */
	ipd_env_step(&e, a0, a1, r0, r1, c, NULL);
	const float want0[4] = { 1, -1, 2, 0 }, want1[4] = { 1, 2, -1, 0 };
	for (int i = 0; i < 4; i++) {
		assert_true(r0[i] == want0[i]);
		assert_true(r1[i] == want1[i]);
	}
	// CD from seat 0 is DC from seat 1.
	ipd_env_observe(&e, 0, obs);
	assert_true(obs[1 * IPD_OBS + 2] == 1.0f);
	ipd_env_observe(&e, 1, obs);
	assert_true(obs[1 * IPD_OBS + 3] == 1.0f);
	assert_true(obs[0 * IPD_OBS + 1] == 1.0f && obs[3 * IPD_OBS + 4] == 1.0f);
	assert_int_equal(c[0].steps, 4);
	assert_true(c[0].coop[0] == 2 && c[0].coop[1] == 2 && c[0].reward[0] == 2);
	ipd_env_free(&e);
}

/* ---- CleanUp-lite ---- */

static int cell(int x, int y)
{
	return y * IPD_CL_W + x;
}

// Agents in the middle column doing nothing: only spawns change the grid.
static struct ipd_cleanup_lane idle_lane(int ndirt)
{
	struct ipd_cleanup_lane l;
	memset(&l, 0, sizeof l);
	l.pos[0] = cell(2, 0);
	l.pos[1] = cell(2, 3);
	for (int y = 0; y < ndirt; y++)
		l.dirt[y] = 1;
	return l;
}

static int count(const unsigned char *f)
{
	int n = 0;
	for (int y = 0; y < IPD_CL_H; y++)
		n += f[y];
	return n;
}

static void test_cleanup_spawn_probabilities(void **state)
{
	(void)state;
	struct ax_rng r;
	ax_rng_seed(&r, 7);
	struct ipd_env_counts c;
	memset(&c, 0, sizeof c);
	const int n = 20000, noop[2] = { IPD_CL_NOOP, IPD_CL_NOOP };
	float rew[2];
	// Dirt: w.p. 0.35 on a free river cell.
	int dirt_new = 0;
	for (int k = 0; k < n; k++) {
		struct ipd_cleanup_lane l = idle_lane(0);
		ipd_cleanup_step_lane(&l, &r, noop, rew, &c);
		dirt_new += count(l.dirt);
	}
	assert_true(fabs((double)dirt_new / n - 0.35) < 0.015);
	// Apples: w.p. 1 - min(1, P/3), P the dirt count after the dirt step.
	int checked = 0;
	for (int start = 0; start <= 4; start++) {
		int trials[5] = { 0 }, apples[5] = { 0 };
		for (int k = 0; k < n; k++) {
			struct ipd_cleanup_lane l = idle_lane(start);
			ipd_cleanup_step_lane(&l, &r, noop, rew, &c);
			int P = count(l.dirt);
			trials[P]++;
			apples[P] += count(l.apple);
		}
		for (int P = 0; P <= 4; P++) {
			if (trials[P] < 2000)
				continue;
			double want = 1.0 - AX_MIN(1.0, P / 3.0), got = (double)apples[P] / trials[P];
			assert_true(fabs(got - want) < 0.03);
			checked++;
		}
	}
	// P = start and start + 1 for start 0..3, P = 4 for start 4: none skipped.
	assert_int_equal(checked, 9);
	// Reset: no apples, three dirt, positions on the grid.
	struct ipd_cleanup_lane l;
	ipd_cleanup_reset_lane(&l, &r);
	assert_int_equal(count(l.apple), 0);
	assert_int_equal(count(l.dirt), IPD_CL_START_DIRT);
	assert_true(l.pos[0] >= 0 && l.pos[0] < IPD_CL_CELLS && l.frozen[0] == 0);
}

static void test_cleanup_harvest_clean_walls(void **state)
{
	(void)state;
	struct ax_rng r;
	ax_rng_seed(&r, 3);
	struct ipd_env_counts c;
	float rew[2];
	for (int k = 0; k < 200; k++) {
		memset(&c, 0, sizeof c);
		struct ipd_cleanup_lane l = idle_lane(4);   /* full river: no spawns of dirt or apples */
		l.pos[0] = cell(1, 2);
		l.apple[2] = 1;
		l.pos[1] = cell(IPD_CL_W - 2, 1);
		ipd_cleanup_step_lane(&l, &r, (int[]){ IPD_CL_LEFT, IPD_CL_RIGHT }, rew, &c);
		assert_true(rew[0] == 1.0f && rew[1] == 0.0f);
		assert_int_equal(l.apple[2], 0);
		assert_int_equal(l.dirt[1], 0);
		assert_true(c.apples[0] == 1 && c.cleaned[1] == 1);
		// walls: left of column 0 and right of the river stay put
		ipd_cleanup_step_lane(&l, &r, (int[]){ IPD_CL_LEFT, IPD_CL_RIGHT }, rew, &c);
		assert_int_equal(l.pos[0], cell(0, 2));
		assert_int_equal(l.pos[1], cell(IPD_CL_W - 1, 1));
	}
}

static void test_cleanup_zap_freeze(void **state)
{
	(void)state;
	struct ax_rng r;
	ax_rng_seed(&r, 11);
	struct ipd_env_counts c;
	memset(&c, 0, sizeof c);
	float rew[2];
	const int n = 20000;
	int hits = 0;
	for (int k = 0; k < n; k++) {
		struct ipd_cleanup_lane l = idle_lane(4);
		l.pos[0] = cell(1, 1);
		l.pos[1] = cell(2, 2);   /* distance 2: in range */
		ipd_cleanup_step_lane(&l, &r, (int[]){ IPD_CL_ZAP, IPD_CL_NOOP }, rew, &c);
		hits += l.frozen[1] == IPD_CL_FREEZE;
		assert_int_equal(l.frozen[0], 0);
	}
	assert_true(fabs((double)hits / n - IPD_CL_ZAP_P) < 0.01);
	assert_true(c.zaps[0] == n && c.zap_hits[0] == hits);
	// Out of range (distance 3): never hits.
	struct ipd_cleanup_lane l = idle_lane(4);
	l.pos[0] = cell(1, 0);
	l.pos[1] = cell(2, 2);
	for (int k = 0; k < 500; k++) {
		ipd_cleanup_step_lane(&l, &r, (int[]){ IPD_CL_ZAP, IPD_CL_NOOP }, rew, &c);
		assert_int_equal(l.frozen[1], 0);
	}
	// A frozen agent ignores its actions for exactly IPD_CL_FREEZE steps.
	l = idle_lane(4);
	l.pos[1] = cell(2, 2);
	l.frozen[1] = IPD_CL_FREEZE;
	for (int k = 0; k < IPD_CL_FREEZE; k++) {
		ipd_cleanup_step_lane(&l, &r, (int[]){ IPD_CL_NOOP, IPD_CL_UP }, rew, &c);
		assert_int_equal(l.pos[1], cell(2, 2));
	}
	assert_int_equal(l.frozen[1], 0);
	ipd_cleanup_step_lane(&l, &r, (int[]){ IPD_CL_NOOP, IPD_CL_UP }, rew, &c);
	assert_int_equal(l.pos[1], cell(2, 1));
	// A frozen agent cannot zap.
	l = idle_lane(4);
	l.pos[0] = cell(2, 1);
	l.pos[1] = cell(2, 2);
	l.frozen[0] = 2;
	for (int k = 0; k < 2; k++) {
		ipd_cleanup_step_lane(&l, &r, (int[]){ IPD_CL_ZAP, IPD_CL_NOOP }, rew, &c);
		assert_int_equal(l.frozen[1], 0);
	}
}

static void test_cleanup_observation_symmetric(void **state)
{
	(void)state;
	struct ipd_cleanup_lane l = idle_lane(2);
	l.pos[0] = cell(0, 1);
	l.pos[1] = cell(4, 3);
	l.apple[1] = 1;
	l.frozen[1] = 3;
	float o0[IPD_CL_OBS], o1[IPD_CL_OBS];
	ipd_cleanup_observe_lane(&l, 0, o0);
	ipd_cleanup_observe_lane(&l, 1, o1);
	assert_true(o0[cell(0, 1)] == 1 && o0[IPD_CL_CELLS + cell(4, 3)] == 1);
	assert_true(o1[cell(4, 3)] == 1 && o1[IPD_CL_CELLS + cell(0, 1)] == 1);
	assert_true(o0[2 * IPD_CL_CELLS + 1] == 1 && o0[2 * IPD_CL_CELLS + IPD_CL_H] == 1);
	assert_true(o0[IPD_CL_OBS - 3] == 0 && o0[IPD_CL_OBS - 2] == 1);
	assert_true(o1[IPD_CL_OBS - 3] == 1 && o1[IPD_CL_OBS - 2] == 0 && o1[IPD_CL_OBS - 1] == 1);
}

/* ---- batch lambda returns against paper Eq. 3 computed directly ---- */

// O(L^2): own discounted return to the end of the current inner episode
// (divided by norm), plus the future: lane-averaged or own, and bootstrap.
static double eq3_direct(int B, int L, int T, const float *r, const float *v_next, double disc,
			 int norm_cur, int avg, int b, int l)
{
	int end = l / T * T + T - 1;
	double cur = 0, fut = 0;
	for (int k = l; k <= end; k++)
		cur += pow(disc, k - l) * r[(size_t)b * L + k];
	for (int k = end + 1; k < L; k++) {
		double rk = 0;
		if (avg) {
			for (int bb = 0; bb < B; bb++)
				rk += r[(size_t)bb * L + k];
			rk /= B;
		} else {
			rk = r[(size_t)b * L + k];
		}
		fut += pow(disc, k - l) * rk;
	}
	double boot = 0;
	if (avg) {
		for (int bb = 0; bb < B; bb++)
			boot += v_next[(size_t)bb * L + L - 1];
		boot /= B;
	} else {
		boot = v_next[(size_t)b * L + L - 1];
	}
	return cur / (norm_cur ? B : 1) + fut + pow(disc, L - l) * boot;
}

static void test_batch_returns_match_eq3(void **state)
{
	(void)state;
	enum { B = 5, T = 4, L = 3 * T };
	float r[B * L], v[B * L], out[B * L];
	struct ax_rng g;
	ax_rng_seed(&g, 5);
	ax_rng_fill_normal(&g, r, B * L, 0, 1);
	ax_rng_fill_normal(&g, v, B * L, 0, 1);
	const double discs[2] = { 1.0, 0.9 };
	for (int est = 0; est < 3; est++)
		for (int di = 0; di < 2; di++) {
			int norm_cur, avg;
			ipd_estimator_flags((enum ipd_estimator)est, &norm_cur, &avg);
			ipd_batch_lambda_returns(B, L, T, r, v, (float)discs[di], 1.0f, norm_cur, avg, out);
			for (int b = 0; b < B; b++)
				for (int l = 0; l < L; l++) {
					double want = eq3_direct(B, L, T, r, v, discs[di], norm_cur, avg, b, l);
					assert_true(fabs(out[b * L + l] - want) < 1e-4 * (1 + fabs(want)));
				}
		}
	// The estimators really differ: COALA's current episode is scaled by 1/B.
	int nc, af;
	ipd_estimator_flags(IPD_EST_COALA, &nc, &af);
	assert_true(nc && af);
	ipd_estimator_flags(IPD_EST_MFOS, &nc, &af);
	assert_true(!nc && af);
	ipd_estimator_flags(IPD_EST_UNAWARE, &nc, &af);
	assert_true(!nc && !af);
}

// Flags off, lambda < 1: the ordinary TD(lambda) return, computed forward.
static void test_batch_returns_td_lambda(void **state)
{
	(void)state;
	enum { B = 2, T = 3, L = 9 };
	float r[B * L], v[B * L], out[B * L];
	struct ax_rng g;
	ax_rng_seed(&g, 9);
	ax_rng_fill_normal(&g, r, B * L, 0, 1);
	ax_rng_fill_normal(&g, v, B * L, 0, 1);
	const double disc = 0.95, lam = 0.7;
	ipd_batch_lambda_returns(B, L, T, r, v, (float)disc, (float)lam, 0, 0, out);
	for (int b = 0; b < B; b++)
		for (int t = 0; t < L; t++) {
			// G^lambda = sum_n (1-lam) lam^(n-1) G^(n) + lam^(L-t-1) G^(L-t)
			double want = 0;
			for (int n = 1; n <= L - t; n++) {
				double Gn = 0;
				for (int k = 0; k < n; k++)
					Gn += pow(disc, k) * r[b * L + t + k];
				Gn += pow(disc, n) * v[b * L + t + n - 1];
				want += (n < L - t ? (1 - lam) * pow(lam, n - 1) : pow(lam, n - 1)) * Gn;
			}
			assert_true(fabs(out[b * L + t] - want) < 1e-4 * (1 + fabs(want)));
		}
}

/* ---- analytic IPD ---- */

static void test_analytic_matches_monte_carlo(void **state)
{
	(void)state;
	const double gamma = 0.95, th0[5] = { 0.3, 1.0, -0.5, 0.2, -1.2 },
		     th1[5] = { -0.4, 0.8, 0.1, -0.9, 0.5 };
	double J[2];
	ipd_analytic_returns(PAYOFF, gamma, th0, th1, J);
	struct ax_rng r;
	ax_rng_seed(&r, 2);
	const int episodes = 20000, horizon = 300;
	double sum[2] = { 0, 0 }, sq[2] = { 0, 0 };
	for (int ep = 0; ep < episodes; ep++) {
		int s = 0;
		double ret[2] = { 0, 0 }, disc = 1;
		for (int k = 0; k < horizon; k++) {
			int a0 = ax_rng_uniform_double(&r) >= 1 / (1 + exp(-th0[s]));
			int a1 = ax_rng_uniform_double(&r) >= 1 / (1 + exp(-th1[ipd_swap_state(s)]));
			ret[0] += disc * PAYOFF[a0][a1];
			ret[1] += disc * PAYOFF[a1][a0];
			disc *= gamma;
			s = ipd_joint_state(a0, a1);
		}
		for (int p = 0; p < 2; p++) {
			double x = (1 - gamma) * ret[p];
			sum[p] += x;
			sq[p] += x * x;
		}
	}
	for (int p = 0; p < 2; p++) {
		double mean = sum[p] / episodes, se = sqrt((sq[p] / episodes - mean * mean) / episodes);
		assert_true(fabs(mean - J[p]) < 4 * se + 1e-6);
	}
}

static void test_analytic_gradient(void **state)
{
	(void)state;
	const double gamma = 0.95;
	double th[2][5] = { { 0.3, 1.0, -0.5, 0.2, -1.2 }, { -0.4, 0.8, 0.1, -0.9, 0.5 } };
	for (int seat = 0; seat < 2; seat++) {
		double g[5], J[2], Jm[2];
		ipd_analytic_grad_own(PAYOFF, gamma, th[0], th[1], seat, g);
		for (int k = 0; k < 5; k++) {
			double keep = th[seat][k], eps = 1e-6;
			th[seat][k] = keep + eps;
			ipd_analytic_returns(PAYOFF, gamma, th[0], th[1], J);
			th[seat][k] = keep - eps;
			ipd_analytic_returns(PAYOFF, gamma, th[0], th[1], Jm);
			th[seat][k] = keep;
			double num = (J[seat] - Jm[seat]) / (2 * eps);
			assert_true(fabs(num - g[k]) < 1e-7 + 1e-5 * fabs(num));
		}
	}
	// Mutual cooperation earns 1 per step, mutual defection 0.
	double coop[5] = { 20, 20, 20, 20, 20 }, defect[5] = { -20, -20, -20, -20, -20 }, J[2];
	ipd_analytic_returns(PAYOFF, gamma, coop, coop, J);
	assert_true(fabs(J[0] - 1) < 1e-6 && fabs(J[1] - 1) < 1e-6);
	ipd_analytic_returns(PAYOFF, gamma, defect, defect, J);
	assert_true(fabs(J[0]) < 1e-6);
}

/* ---- naive learners ---- */

// Two tabular naive learners on the IPD for M episodes: they learn to defect.
static double naive_vs_naive_coop(uint64_t seed, int M, float lr)
{
	enum { B = 16, T = 10 };
	struct ipd_naive_cfg cfg = { .obs_dim = IPD_OBS, .n_actions = 2, .hidden = 0, .lr = lr,
				 .gamma = 0.99f, .value_coef = 0.5f, .reward_scale = 0.05f,
				 .init_std = 0.5f };
	int P = ipd_naive_nparam(&cfg);
	float *store = calloc(8 * (size_t)P, sizeof(float));
	float *scratch = calloc(ipd_naive_scratch_floats(&cfg, B, T), sizeof(float));
	struct ipd_naive nl[2];
	struct ax_rng r;
	ax_rng_seed(&r, seed);
	ipd_naive_init(&nl[0], &cfg, store, &r);
	ipd_naive_init(&nl[1], &cfg, store + 4 * P, &r);
	struct ipd_env e;
	ipd_env_init(&e, IPD_ENV_IPD, B, PAYOFF);
	float obs[2][B * T * IPD_OBS], rew[2][B * T], rr[2][B], p[2], hid[8];
	int act[2][B * T], a[2][B];
	struct ipd_env_counts c;
	double coop = 0;
	for (int m = 0; m < M; m++) {
		memset(&c, 0, sizeof c);
		ipd_env_reset(&e, &r);
		for (int t = 0; t < T; t++) {
			for (int s = 0; s < 2; s++) {
				float o[B * IPD_OBS];
				ipd_env_observe(&e, s, o);
				for (int b = 0; b < B; b++) {
					ipd_naive_probs(&nl[s], o + b * IPD_OBS, p, hid);
					a[s][b] = ax_rng_categorical(&r, p, 2);
					memcpy(obs[s] + (b * T + t) * IPD_OBS, o + b * IPD_OBS, sizeof(float) * IPD_OBS);
					act[s][b * T + t] = a[s][b];
				}
			}
			ipd_env_step(&e, a[0], a[1], rr[0], rr[1], &c, NULL);
			for (int b = 0; b < B; b++) {
				rew[0][b * T + t] = rr[0][b];
				rew[1][b * T + t] = rr[1][b];
			}
		}
		for (int s = 0; s < 2; s++)
			ipd_naive_update(&nl[s], B, T, obs[s], act[s], rew[s], scratch);
		coop = (c.coop[0] + c.coop[1]) / (2.0 * c.steps);
	}
	ipd_env_free(&e);
	free(store);
	free(scratch);
	return coop;
}

static void test_naive_vs_naive_defects(void **state)
{
	(void)state;
	double first = 0, last = 0;
	for (uint64_t s = 1; s <= 4; s++) {
		first += naive_vs_naive_coop(s, 1, NAIVE_LR) / 4;
		last += naive_vs_naive_coop(s, 20, NAIVE_LR) / 4;
	}
	assert_true(first > 0.35);
	assert_true(last < 0.15);
}

// The hand-written A2C gradient of a naive learner with a tanh layer against
// central differences of its loss, mean(-logp(a) adv) + value_coef * 0.5 *
// mean((V - G)^2), with G and the normalised advantages held fixed.
static void test_naive_gradient(void **state)
{
	(void)state;
	enum { B = 3, T = 4, N = B * T, O = 6, A = 3, H = 4 };
	struct ipd_naive_cfg cfg = { .obs_dim = O, .n_actions = A, .hidden = H, .lr = 0.0f,
				 .gamma = 0.9f, .value_coef = 0.5f, .reward_scale = 1.0f,
				 .init_std = 1.0f };
	int P = ipd_naive_nparam(&cfg);
	float *store = calloc(4 * (size_t)P, sizeof(float));
	float *scratch = calloc(ipd_naive_scratch_floats(&cfg, B, T), sizeof(float));
	float obs[N * O], rew[N], logits[A], hid[H];
	int act[N];
	struct ipd_naive nl;
	struct ax_rng r;
	ax_rng_seed(&r, 6);
	ipd_naive_init(&nl, &cfg, store, &r);
	ax_rng_fill_normal(&r, nl.w, (size_t)P, 0, 0.7f);   /* b1 and the value head too */
	ax_rng_fill_normal(&r, obs, N * O, 0, 1);
	ax_rng_fill_normal(&r, rew, N, 0, 1);
	for (int i = 0; i < N; i++)
		act[i] = (int)ax_rng_below(&r, A);
	// Fixed returns and advantages, as the update computes them.
	double ret[N], adv[N], mean = 0, sq = 0;
	for (int b = 0; b < B; b++) {
		double g = 0;
		for (int t = T - 1; t >= 0; t--) {
			int i = b * T + t;
			g = rew[i] + cfg.gamma * g;
			ret[i] = g;
			adv[i] = g - ipd_naive_forward(&nl, obs + i * O, logits, hid);
			mean += adv[i] / N;
		}
	}
	for (int i = 0; i < N; i++)
		sq += (adv[i] - mean) * (adv[i] - mean) / N;
	for (int i = 0; i < N; i++)
		adv[i] = (adv[i] - mean) / sqrt(sq);
	float *w0 = malloc((size_t)P * sizeof(float));
	memcpy(w0, nl.w, (size_t)P * sizeof(float));
	ipd_naive_update(&nl, B, T, obs, act, rew, scratch);   /* lr 0: fills grad only */
	assert_memory_equal(nl.w, w0, (size_t)P * sizeof(float));
	float *num = malloc((size_t)P * sizeof(float));
	for (int k = 0; k < P; k++) {
		double L[2];
		for (int side = 0; side < 2; side++) {
			nl.w[k] = w0[k] + (side ? -1e-2f : 1e-2f);
			L[side] = 0;
			for (int i = 0; i < N; i++) {
				double v = ipd_naive_forward(&nl, obs + i * O, logits, hid), mx = logits[0], s = 0;
				for (int a = 1; a < A; a++)
					mx = logits[a] > mx ? logits[a] : mx;
				for (int a = 0; a < A; a++)
					s += exp(logits[a] - mx);
				double logp = logits[act[i]] - mx - log(s);
				L[side] += (-logp * adv[i] + cfg.value_coef * 0.5 * (v - ret[i]) * (v - ret[i])) / N;
			}
		}
		nl.w[k] = w0[k];
		num[k] = (float)((L[0] - L[1]) / 2e-2);
	}
	tu_assert_close(nl.grad, num, (size_t)P, 1e-3, 1e-2, "naive gradient");
	free(num);
	free(w0);
	free(store);
	free(scratch);
}

/* ---- meta network ---- */

// Stepping the recurrence one step at a time (acting) gives what the
// whole-sequence scan gives (training).
static void test_meta_net_step_equals_sequence(void **state)
{
	(void)state;
	enum { N = 3, L = 7, O = 6, W = 8, A = 2 };
	struct ax_arena long_arena, step;
	ax_arena_init(&long_arena, 0);
	ax_arena_init(&step, 0);
	struct ax_tape t;
	ax_tape_init(&t, &step);
	struct ax_rng r;
	ax_rng_seed(&r, 4);
	struct ipd_meta_net m;
	ipd_meta_init(&m, &long_arena, &r, "agent0.", O, W, A, 0.0f);
	// give the zero heads values so the test sees something
	ax_rng_fill_normal(&r, m.pi.w->data, m.pi.w->size, 0, 0.5f);
	ax_rng_fill_normal(&r, m.v.w->data, m.v.w->size, 0, 0.5f);
	float x[N * L * O], logits_seq[N * L * A], value_seq[N * L], h[N * W];
	ax_rng_fill_normal(&r, x, N * L * O, 0, 1);
	ax_no_grad_begin(&t);
	struct ipd_meta_out o = ipd_meta_forward(&t, &m, ax_tensor_wrap(&step, x, 3, (int[]){ N, L, O }), NULL);
	memcpy(logits_seq, o.logits->data, sizeof logits_seq);
	memcpy(value_seq, o.value->data, sizeof value_seq);
	memset(h, 0, sizeof h);
	for (int l = 0; l < L; l++) {
		ax_tape_reset(&t);
		struct ax_tensor *xs = ax_tensor_3d(&step, N, 1, O);
		for (int n = 0; n < N; n++)
			memcpy(xs->data + n * O, x + (n * L + l) * O, O * sizeof(float));
		struct ipd_meta_out s = ipd_meta_forward(&t, &m, xs, ax_tensor_wrap(&step, h, 2, (int[]){ N, W }));
		memcpy(h, s.h->data, sizeof h);
		for (int n = 0; n < N; n++) {
			tu_assert_close(s.logits->data + n * A, logits_seq + (n * L + l) * A, A, 1e-5, 1e-4, "logits");
			tu_assert_close(s.value->data + n, value_seq + n * L + l, 1, 1e-5, 1e-4, "value");
		}
	}
	ax_no_grad_end(&t);
	ax_tape_free(&t);
	ax_params_free(&m.params);
	ax_arena_free(&step);
	ax_arena_free(&long_arena);
}

static struct ax_tensor *ppo_fn(struct ax_tape *t, struct ax_tensor **in, void *ctx)
{
	return ipd_ppo_loss(t, in[0], in[1], ctx);
}

static void test_ppo_loss_gradient(void **state)
{
	(void)state;
	enum { S = 24, A = 3 };
	struct ax_arena a;
	ax_arena_init(&a, 0);
	struct ax_tensor *logits = tu_leaf(&a, 2, (int[]){ S, A }, 1, 1.0f);
	struct ax_tensor *value = tu_leaf(&a, 1, (int[]){ S }, 2, 1.0f);
	static int32_t act[S];
	static float lp[S], adv[S], vo[S], tg[S];
	struct ax_rng r;
	ax_rng_seed(&r, 3);
	float probs[A];
	for (int i = 0; i < S; i++) {
		act[i] = (int32_t)ax_rng_below(&r, A);
		// old log-probs: ratios both inside and well outside the clip range
		float shift = i % 3 == 0 ? 0.05f * ax_rng_normal(&r) : (i % 3 == 1 ? 0.6f : -0.6f);
		lp[i] = log_softmax_at(logits->data + i * A, A, act[i], probs) + shift;
		adv[i] = ax_rng_normal(&r);
		vo[i] = value->data[i] + (i % 2 ? 0.05f : 0.7f) * ax_rng_normal(&r);
		tg[i] = ax_rng_normal(&r);
	}
	struct ipd_ppo_data d = { act, lp, adv, vo, tg, 0.2f, 0.5f, 0.0f };
	struct ax_tensor *in[2] = { logits, value };
	tu_gradcheck(ppo_fn, in, 2, &d, 1e-3f, 1e-3, 1e-2, 0, "ipd_ppo_loss");
	d.entropy_coef = 0.3f;   // with the entropy bonus
	tu_gradcheck(ppo_fn, in, 2, &d, 1e-3f, 1e-3, 1e-2, 0, "ipd_ppo_loss with entropy");
	ax_arena_free(&a);
}

/* ---- checkpoint settings ---- */

static void test_settings_round_trip(void **state)
{
	(void)state;
	struct ipd_train_cfg c, d;
	ipd_train_defaults(&c, IPD_ENV_CLEANUP);
	c.est = IPD_EST_MFOS;
	c.payoff[1][0] = 2.5f;
	c.p_naive = 0.3;
	c.lr = 3e-4f;
	c.fixed_coop[3] = 0.7f;
	c.naive.adam = 0;
	c.seed = 12345678901234ULL;
	struct ax_bundle b;
	ax_ckpt_begin(&b, IPD_CKPT_KIND);
	ax_ckpt_put_settings(&b, ipd_train_settings, ipd_train_nsettings, &c);
	ipd_train_defaults(&d, IPD_ENV_IPD);
	assert_int_equal(ipd_train_load_settings(&b, &d), AX_OK);
	for (int i = 0; i < ipd_train_nsettings; i++) {
		char x[64], y[64];
		ax_setting_format(&ipd_train_settings[i], &c, x, sizeof x);
		ax_setting_format(&ipd_train_settings[i], &d, y, sizeof y);
		assert_string_equal(x, y);
	}
	assert_true(d.env == IPD_ENV_CLEANUP && d.payoff[1][0] == 2.5f && d.lr == 3e-4f &&
		    d.seed == c.seed && d.naive.adam == 0);
	// a value out of the flag's range is refused, naming the key and flag
	ax_bundle_set_meta(&b, "ipd.width", "0");
	assert_int_equal(ipd_train_load_settings(&b, &d), AX_ERR_FORMAT);
	assert_non_null(strstr(ax_error_detail(), "ipd.width"));
	assert_non_null(strstr(ax_error_detail(), "--width"));
	ax_bundle_free(&b);
}

static void test_settings_check(void **state)
{
	(void)state;
	struct ipd_train_cfg c;
	ipd_train_defaults(&c, IPD_ENV_IPD);
	assert_int_equal(ipd_train_check(&c), AX_OK);
	c.meta_agents = c.meta_batch + 1;
	assert_int_equal(ipd_train_check(&c), AX_ERR_ARG);
	ipd_train_defaults(&c, IPD_ENV_CLEANUP);
	c.defect_bias = 1;
	assert_int_equal(ipd_train_check(&c), AX_ERR_ARG);
	ipd_train_defaults(&c, IPD_ENV_IPD);
	c.fixed = c.naive_vs_naive = 1;
	assert_int_equal(ipd_train_check(&c), AX_ERR_ARG);
}

static void test_window_and_finite(void **state)
{
	(void)state;
	struct ipd_env_counts w[2], r[2];
	memset(w, 0, sizeof w);
	w[0].reward[1] = -0.1;
	w[1].cleaned[0] = 7;
	w[1].steps = 123;
	struct ax_bundle b;
	ax_ckpt_begin(&b, IPD_CKPT_KIND);
	ipd_window_put(&b, w);
	assert_int_equal(ipd_window_get(&b, r), AX_OK);
	assert_memory_equal(w, r, sizeof w);
	ax_bundle_set_meta(&b, "ipd.run.window", "1,2,3");
	assert_int_equal(ipd_window_get(&b, r), AX_ERR_FORMAT);
	float x[3] = { 1, 2, 3 };
	ax_bundle_add_f32(&b, "agent0.optim.v.pi.bias", 1, (int64_t[]){ 3 }, x);
	assert_int_equal(ipd_ckpt_check_tensors(&b), AX_OK);
	((float *)b.entries[b.n - 1].array.data)[1] = -1;   /* a negative second moment */
	assert_int_equal(ipd_ckpt_check_tensors(&b), AX_ERR_FORMAT);
	((float *)b.entries[b.n - 1].array.data)[1] = NAN;
	assert_int_equal(ipd_ckpt_check_tensors(&b), AX_ERR_FORMAT);
	ax_bundle_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipd_payoffs_and_views),
		cmocka_unit_test(test_cleanup_spawn_probabilities),
		cmocka_unit_test(test_cleanup_harvest_clean_walls),
		cmocka_unit_test(test_cleanup_zap_freeze),
		cmocka_unit_test(test_cleanup_observation_symmetric),
		cmocka_unit_test(test_batch_returns_match_eq3),
		cmocka_unit_test(test_batch_returns_td_lambda),
		cmocka_unit_test(test_analytic_matches_monte_carlo),
		cmocka_unit_test(test_analytic_gradient),
		cmocka_unit_test(test_naive_vs_naive_defects),
		cmocka_unit_test(test_naive_gradient),
		cmocka_unit_test(test_meta_net_step_equals_sequence),
		cmocka_unit_test(test_ppo_loss_gradient),
		cmocka_unit_test(test_settings_round_trip),
		cmocka_unit_test(test_settings_check),
		cmocka_unit_test(test_window_and_finite),
	};
	return cmocka_run_group_tests_name("ipd-learn", tests, NULL, NULL);
}
