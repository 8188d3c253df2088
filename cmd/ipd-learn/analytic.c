/* analytic.c — the exact tabular IPD of App. C.
 *
 * A policy is 5 logits of cooperating in s0, CC, CD, DC, DD (own action
 * first). The joint play is a Markov chain on the 4 joint actions (seat 0's
 * side): s0 the distribution of the first joint action, M[j'][j] the chance
 * of j' after j. The discounted return is J = r^T (I - gamma M)^-1 s0; we
 * report (1 - gamma) J, the discounted mean reward per step.
 *
 * Naive learners ascend their own return with the exact gradient (derived by
 * hand: dJ = u^T (gamma dM w + ds0), u = X^-T r, w = X^-1 s0, X = I - gamma M).
 * A look-ahead-K meta agent ascends F = sum_{m=0..K} J(self, other_m), where
 * other_{m+1} = other_m + naive_lr * grad_other J_other: the other's K naive
 * steps are differentiated through by central finite differences in double
 * over the meta agent's 5 logits (K = 0 is a naive learner). */
#include "ipd_learn.h"

#include <math.h>
#include <string.h>

static double sigmoid(double x)
{
	return 1.0 / (1.0 + exp(-x));
}

// Solve X y = b (4x4, partial pivoting); X and b are overwritten.
static void solve4(double X[4][4], double b[4], double y[4])
{
	for (int c = 0; c < 4; c++) {
		int piv = c;
		for (int r = c + 1; r < 4; r++)
			if (fabs(X[r][c]) > fabs(X[piv][c]))
				piv = r;
		for (int k = 0; k < 4; k++) {
			double t = X[c][k];
			X[c][k] = X[piv][k];
			X[piv][k] = t;
		}
		double t = b[c];
		b[c] = b[piv];
		b[piv] = t;
		for (int r = c + 1; r < 4; r++) {
			double f = X[r][c] / X[c][c];
			for (int k = c; k < 4; k++)
				X[r][k] -= f * X[c][k];
			b[r] -= f * b[c];
		}
	}
	for (int r = 3; r >= 0; r--) {
		double s = b[r];
		for (int k = r + 1; k < 4; k++)
			s -= X[r][k] * y[k];
		y[r] = s / X[r][r];
	}
}

/* The chain: p[s][k] probability that seat s cooperates given joint state k
 * (seat 0's side, 0 = start); s0[j] and M[j'][j] over joint states j = 2*a0+a1. */
struct chain {
	double p[2][5], s0[4], M[4][4];
};

static void build_chain(const double th0[5], const double th1[5], struct chain *ch)
{
	for (int k = 0; k < 5; k++) {
		ch->p[0][k] = sigmoid(th0[k]);
		ch->p[1][k] = sigmoid(th1[ipd_swap_state(k)]);
	}
	for (int j = 0; j < 4; j++) {
		int a0 = j >> 1, a1 = j & 1;
		double q0 = a0 ? 1 - ch->p[0][0] : ch->p[0][0], q1 = a1 ? 1 - ch->p[1][0] : ch->p[1][0];
		ch->s0[j] = q0 * q1;
		for (int i = 0; i < 4; i++) {
			double c0 = ch->p[0][1 + i], c1 = ch->p[1][1 + i];
			ch->M[j][i] = (a0 ? 1 - c0 : c0) * (a1 ? 1 - c1 : c1);
		}
	}
}

// u = X^-T r and w = X^-1 s0 for seat's rewards.
static void solve_chain(const struct chain *ch, const float payoff[2][2], double gamma, int seat,
			double u[4], double w[4])
{
	double X[4][4], XT[4][4], r[4], s0[4];
	for (int j = 0; j < 4; j++) {
		int a0 = j >> 1, a1 = j & 1;
		r[j] = seat ? payoff[a1][a0] : payoff[a0][a1];
		s0[j] = ch->s0[j];
		for (int i = 0; i < 4; i++) {
			X[j][i] = (i == j) - gamma * ch->M[j][i];
			XT[i][j] = X[j][i];
		}
	}
	solve4(XT, r, u);
	solve4(X, s0, w);
}

void ipd_analytic_returns(const float payoff[2][2], double gamma, const double th0[5],
		      const double th1[5], double J[2])
{
	struct chain ch;
	build_chain(th0, th1, &ch);
	for (int seat = 0; seat < 2; seat++) {
		double u[4], w[4];
		solve_chain(&ch, payoff, gamma, seat, u, w);
		double s = 0;
		for (int j = 0; j < 4; j++)
			s += u[j] * ch.s0[j];
		J[seat] = (1 - gamma) * s;
	}
}

void ipd_analytic_grad_own(const float payoff[2][2], double gamma, const double th0[5],
		       const double th1[5], int seat, double g[5])
{
	struct chain ch;
	double u[4], w[4];
	build_chain(th0, th1, &ch);
	solve_chain(&ch, payoff, gamma, seat, u, w);
	for (int k = 0; k < 5; k++) {
		// seat 1's logit k acts on joint state swap(k) of seat 0's side
		int js = seat ? ipd_swap_state(k) : k;
		double p = ch.p[seat][js], dp = p * (1 - p), d = 0;
		for (int j = 0; j < 4; j++) {
			int a[2] = { j >> 1, j & 1 };
			int other = a[1 - seat];
			double q_other_start = other ? 1 - ch.p[1 - seat][0] : ch.p[1 - seat][0];
			double sign = a[seat] ? -1 : 1;
			if (js == 0) {
				d += u[j] * sign * q_other_start;
			} else {
				int i = js - 1;   /* column of the state the logit acts in */
				double co = ch.p[1 - seat][js];
				d += gamma * u[j] * sign * (other ? 1 - co : co) * w[i];
			}
		}
		g[k] = (1 - gamma) * d * dp;
	}
}

/* F = sum over m = 0..K of self's return after the other's m naive steps. */
static double lookahead_objective(const struct ipd_analytic_cfg *c, const double self[5],
				  const double other0[5], int K, double *other_return)
{
	double other[5], J[2], g[5], F = 0, Fo = 0;
	memcpy(other, other0, sizeof other);
	for (int m = 0; m <= K; m++) {
		ipd_analytic_returns(c->payoff, c->gamma, self, other, J);
		if (m > 0 || K == 0) {   /* LOLA: the return after the look-ahead steps */
			F += J[0];
			Fo += J[1];
		}
		if (m == K)
			break;
		ipd_analytic_grad_own(c->payoff, c->gamma, self, other, 1, g);
		for (int k = 0; k < 5; k++)
			other[k] += c->naive_lr * g[k];
	}
	if (other_return)
		*other_return = Fo / (K ? K : 1);
	return F / (K ? K : 1);
}

static void meta_gradient(const struct ipd_analytic_cfg *c, const double self[5],
			  const double other[5], int K, double g[5])
{
	const double eps = 1e-5;
	double th[5];
	for (int k = 0; k < 5; k++) {
		memcpy(th, self, sizeof th);
		th[k] = self[k] + eps;
		double fp = lookahead_objective(c, th, other, K, NULL);
		th[k] = self[k] - eps;
		double fm = lookahead_objective(c, th, other, K, NULL);
		g[k] = (fp - fm) / (2 * eps);
	}
}

int ipd_analytic_run(const struct ipd_analytic_cfg *c, FILE *out)
{
	struct ax_rng r;
	ax_rng_seed(&r, c->seed);
	double th[2][5], naive0[5];
	for (int s = 0; s < 2; s++)
		for (int k = 0; k < 5; k++)
			th[s][k] = (s == 0 ? -c->init_defect : 0) + c->init_std * ax_rng_normal(&r);
	memcpy(naive0, th[1], sizeof naive0);
	struct ax_csv csv;
	ax_csv_begin(&csv, out,
		     "iter,lookahead,versus,seed,meta_reward,coplayer_reward,"
		     "meta_p_s0,meta_p_cc,meta_p_cd,meta_p_dc,meta_p_dd,"
		     "coplayer_p_s0,coplayer_p_cc,coplayer_p_cd,coplayer_p_dc,coplayer_p_dd");
	for (int it = 0; it <= c->iters; it++) {
		double J[2], co;
		if (c->versus_naive) {
			J[0] = lookahead_objective(c, th[0], naive0, c->lookahead, &co);
			J[1] = co;
		} else {
			ipd_analytic_returns(c->payoff, c->gamma, th[0], th[1], J);
		}
		const double *other = c->versus_naive ? naive0 : th[1];
		ax_csv_rowf(&csv, "%d,%d,%s,%llu,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g",
			    it, c->lookahead, c->versus_naive ? "naive" : "meta", (unsigned long long)c->seed, J[0], J[1],
			    sigmoid(th[0][0]), sigmoid(th[0][1]), sigmoid(th[0][2]),
			    sigmoid(th[0][3]), sigmoid(th[0][4]), sigmoid(other[0]),
			    sigmoid(other[1]), sigmoid(other[2]), sigmoid(other[3]), sigmoid(other[4]));
		if (it == c->iters)
			break;
		if (ax_interrupted()) {
			ax_warn("interrupted after iteration %d", it);
			return 128 + ax_interrupted();
		}
		if (ferror(out)) {
			ax_warn("standard output: write error; stopped after iteration %d", it);
			return AX_EXIT_FAIL;
		}
		double g[2][5];
		if (c->versus_naive) {
			// a fresh naive learner each meta-step, learning for lookahead
			meta_gradient(c, th[0], naive0, c->lookahead, g[0]);
			for (int k = 0; k < 5; k++)
				th[0][k] += c->meta_lr * g[0][k];
		} else {
			// both agents are look-ahead learners, updated simultaneously
			meta_gradient(c, th[0], th[1], c->lookahead, g[0]);
			meta_gradient(c, th[1], th[0], c->lookahead, g[1]);
			for (int s = 0; s < 2; s++)
				for (int k = 0; k < 5; k++)
					th[s][k] += (c->lookahead ? c->meta_lr : c->naive_lr) * g[s][k];
		}
	}
	return AX_EXIT_OK;
}
