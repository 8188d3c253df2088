/* ap.h — agent-probe: a memory-transformer agent in a gridworld, and the
 * probes that explain it. One prefix: ap_. Sections name their file. */
#ifndef AGENT_PROBE_H
#define AGENT_PROBE_H

#include "axon.h"

/* ---- env.c: the gridworld (rules in agent-probe(1)) ---- */
enum { AP_W = 11, AP_H = 9, AP_VIEW = 5, AP_CH = 8, AP_TREES = 2, AP_TMAX = 40 };
enum { AP_NACT = 5 };
enum { AP_UP, AP_DOWN, AP_LEFT, AP_RIGHT, AP_ATTACK };
/* Channels of a cell in an observation. */
enum { AP_C_WALL, AP_C_DOOR, AP_C_BROWN, AP_C_GREEN, AP_C_RED, AP_C_BLUE, AP_C_FACE,
       AP_C_PURPLE };
#define AP_OBS (AP_VIEW * AP_VIEW * AP_CH + AP_TREES + 1)
/* Edits (bit flags), applied when the episode starts. */
enum { AP_EDIT_LOOKALIKE = 1, AP_EDIT_CONTROL = 2, AP_EDIT_NOCUE = 4, AP_EDIT_MOVECUE = 8,
       AP_EDIT_SWAPCUE = 16 };
#define AP_EDIT_OBJECT (AP_EDIT_LOOKALIKE | AP_EDIT_CONTROL)

struct ap_env {
	int ax, ay;               /* agent */
	int cue;                  /* 0 red: the left door is right; 1 blue: the right door */
	int cue_x, cue_y;         /* where the cue tile lies */
	int tree_x[AP_TREES];     /* trunks at (x, 2), leaves at (x, 1) */
	int chopped[AP_TREES];
	int wood, need;           /* wood held; trees that give wood */
	int t, done, success;
	int edits;                /* AP_EDIT_* */
	int odd_hits;             /* attacks on the edited object */
	int tree_hit;             /* the last step chopped a tree */
};

void ap_env_reset(struct ap_env *e, struct ax_rng *r, int edits);
/* One action; returns the reward. */
float ap_env_step(struct ap_env *e, int action);
/* Egocentric 5x5 view (channels last) + wood one-hot. rendered_edits: the
 * edits drawn (0 shows the world as if unedited; the dynamics stay). */
void ap_env_observe(const struct ap_env *e, int rendered_edits, float *obs);
/* The scripted expert's action for the current state. */
int ap_env_expert(const struct ap_env *e);
/* Is the edited object (look-alike or control) next to the agent? */
int ap_env_odd_adjacent(const struct ap_env *e);
/* Is the cue tile within the agent's view? */
int ap_env_cue_visible(const struct ap_env *e);
/* "lookalike,nocue" -> flags; AX_ERR_ARG with a detail on a bad spec. */
enum ax_status ap_edit_parse(const char *spec, int *edits);

/* ---- model.c: the policy ---- */
struct ap_config {
	int memory;     /* K: a step sees itself and the K-1 before it */
	int dim, layers, heads;
	long steps;     /* training steps */
	int batch;      /* episodes per step */
	float lr;
	float noise;    /* expert data: a random action with this probability */
	int eval_episodes;
	uint64_t seed;   /* data, evaluation episodes */
};
extern const struct ax_setting ap_settings[];
extern const int ap_nsettings;
void ap_config_default(struct ap_config *c);

struct ap_model {
	struct ap_config cfg;
	struct ax_arena arena;
	struct ax_params params;
	struct ax_nn_linear embed, head;
	struct ax_tensor *pos;           /* (AP_TMAX, dim) */
	struct ax_nn_block *blocks;
	struct ax_nn_layernorm ln_f;
};

/* What a probe reads or changes inside a forward (no-grad runs only). Any
 * field may be NULL. Shapes: L layers, N sequences, T steps, H heads, D = dim/H. */
struct ap_probe {
	const float *head_gain;   /* (L, H): each head's output times this (ablation) */
	float *probs;             /* out: attention probabilities (L, N, H, T, T) */
	float *heads_out;         /* out: head outputs before the projection (L, N, T, dim) */
	const float *patch_src;   /* heads_out of another run (L, N, T, dim) */
	const uint8_t *patch;     /* (L, T, H): 1 takes that head's output from patch_src */
	float *resid_out;         /* out: each block's input, the residual stream (L, N, T, dim) */
	const float *resid_src;   /* resid_out of another run */
	const uint8_t *resid_patch;   /* (L, T): 1 takes block l's input at step t from resid_src */
};

void ap_model_init(struct ap_model *m, const struct ap_config *cfg, uint64_t seed);
void ap_model_free(struct ap_model *m);
/* obs (N, T, AP_OBS) -> logits (N, T, AP_NACT). */
struct ax_tensor *ap_model_forward(struct ax_tape *t, const struct ap_model *m, int N, int T,
				   const float *obs, const struct ap_probe *probe);

/* ---- train.c ---- */
/* n expert episodes: obs (n, AP_TMAX, AP_OBS), expert actions (n, AP_TMAX)
 * (-1 after the end); returns the longest episode. */
int ap_expert_batch(struct ax_rng *r, int n, float noise, float *obs, int32_t *act);
struct ap_train_opts {
	const struct ax_run_opts *run;
	int quiet;
};
int ap_train(struct ap_model *m, const struct ap_train_opts *o, const struct ax_bundle *resume);
enum ax_status ap_model_load(struct ap_model *m, const char *path);
void ap_model_save_bundle(const struct ap_model *m, struct ax_bundle *b);

/* ---- rollout.c: the policy acting in the world ---- */
struct ap_episodes {
	int n, L, H;
	float *obs;               /* (n, AP_TMAX, AP_OBS) as the agent saw them */
	float *obs_plain;         /* (n, AP_TMAX, AP_OBS) rendered without the edits */
	int32_t *act;             /* (n, AP_TMAX), -1 after the end */
	float *rew;               /* (n, AP_TMAX) */
	int32_t *len;             /* (n) */
	uint8_t *cue_seen;        /* (n, AP_TMAX) the cue in view */
	uint8_t *tree_hit;        /* (n, AP_TMAX) the step chopped a tree */
	uint8_t *odd_adj;         /* (n, AP_TMAX) next to the edited object */
	int32_t *success, *odd_hits;   /* (n) */
};
/* n episodes from seed with these edits; greedy when temperature is 0.
 * head_gain as in ap_probe (NULL: none). */
void ap_rollout(const struct ap_model *m, uint64_t seed, int n, int edits, float temperature,
		const float *head_gain, struct ap_episodes *ep);
void ap_episodes_free(struct ap_episodes *ep);
double ap_success_rate(const struct ap_episodes *ep);
double ap_odd_attack_rate(const struct ap_episodes *ep);
/* Attention probabilities of whole episodes (n, L, H, T, T), T = AP_TMAX. */
float *ap_episode_attention(const struct ap_model *m, const struct ap_episodes *ep);

/* ---- probe.c: attention, intervention, ablation, patching ---- */
struct ap_attn_summary {
	float *by_offset;         /* (L, H, K): mean mass per memory offset; rows sum to 1 */
	float *last4, *cue, *trees;   /* (L, H): shares */
	float *time_offset;       /* (AP_TMAX, K): mean over heads and layers, by step */
};
void ap_attention_summary(const struct ap_model *m, const struct ap_episodes *ep,
			  const float *probs, struct ap_attn_summary *s);
void ap_attn_summary_free(struct ap_attn_summary *s);

struct ap_effect {
	double kl, dlogit_attack;     /* means over steps */
	double success, attack_rate, attack_prob;
};
void ap_intervene(const struct ap_model *m, const struct ap_episodes *ep, struct ap_effect *e);

/* Success rate and the edited object's attack rate with no head ablated
 * (rows[0], rows[1]) and then with each head of each layer zeroed in turn
 * (rows[2 + 2*(l*H + h)] ...): (L*H + 1, 2). */
void ap_ablate(const struct ap_model *m, uint64_t seed, int n, int edits, double *rows);

struct ap_patch_result {
	int L, T, H;
	float *effect;            /* (L, T, H) normalised effect of head outputs */
	float *resid;             /* (L, T) normalised effect of block l's input at step t */
	double clean, corrupted;  /* mean metric */
	double all_effect;        /* patching every head everywhere */
	float *rollout;           /* (T) attention rollout of the decision step */
};
/* Clean: the expert episodes of seed; corrupted: the same with the cue
 * colour swapped (or, with self, identical). */
void ap_patch(const struct ap_model *m, uint64_t seed, int n, int self,
	      struct ap_patch_result *p);
void ap_patch_free(struct ap_patch_result *p);

/* ---- output.c: NPY and PNG files ---- */
/* An int32 array to an open stream (float32: ax_npy_write_f32). */
enum ax_status ap_npy_i32(FILE *f, const int32_t *v, int ndim, const int64_t *shape);
/* One float32 array to a file, atomically. */
enum ax_status ap_save_f32(const char *path, const float *v, int ndim, const int64_t *shape);
/* A heatmap PNG of v (rows, cols), colour range [lo, hi]. */
enum ax_status ap_heatmap_png(const char *path, const char *title, const char *xlabel,
			      const char *ylabel, const float *v, int rows, int cols, double lo,
			      double hi);

#endif
