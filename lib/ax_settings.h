/* ax_settings.h — typed, range-checked settings shared by a command's flag
 * parser and its checkpoints, and the number and list parsers under them.
 *
 * One table entry describes a setting once: its checkpoint metadata key, the
 * flag that sets it, its type, its range and where it lives in the command's
 * settings struct (an offset). The flag parser (ax_cli_setting) and the
 * checkpoint reader (ax_ckpt_get_setting) apply the same range, so a value an
 * edited checkpoint carries is refused exactly as the flag would refuse it.
 *
 *   static const struct ax_setting mod_settings[] = {
 *       AX_SETTING_INT("mod.layers", "--layers", struct mod_config, layers, 1, 64),
 *       AX_SETTING_DOUBLE("mod.capacity", "--capacity", struct mod_config, capacity, 0, 1,
 *                         AX_LO_OPEN),
 *       AX_SETTING_CHOICE("mod.pos", "--pos", struct mod_config, pos, mod_pos_names),
 *   };
 *
 * These calls return a status and never print (library code).
 */
#ifndef AX_SETTINGS_H
#define AX_SETTINGS_H

#include "ax_base.h"

#include <stddef.h>

enum ax_setting_type {
	AX_SET_INT,     /* int, range [lo, hi] */
	AX_SET_LONG,    /* long, range [lo, hi] */
	AX_SET_DOUBLE,  /* double, finite, range [lo, hi] (ends open with AX_LO_OPEN/AX_HI_OPEN) */
	AX_SET_FLOAT,   /* float, as DOUBLE */
	AX_SET_CHOICE,  /* int index into choices, stored by name */
	AX_SET_BOOL,    /* int 0 or 1 */
	AX_SET_U64,     /* uint64_t (seeds): any non-negative integer */
};
enum { AX_LO_OPEN = 1, AX_HI_OPEN = 2 };

struct ax_setting {
	const char *key;              /* checkpoint metadata key, "mod.layers" */
	const char *flag;             /* the option that sets it, "--layers" (for messages) */
	enum ax_setting_type type;
	size_t offset;                /* of the value in the command's settings struct */
	double lo, hi;                /* inclusive range unless open */
	int open;                     /* AX_LO_OPEN | AX_HI_OPEN */
	const char *const *choices;   /* AX_SET_CHOICE: NULL-terminated names */
};

#define AX_SETTING_INT(key, flag, T, field, lo, hi) \
	{ key, flag, AX_SET_INT, offsetof(T, field), lo, hi, 0, NULL }
#define AX_SETTING_LONG(key, flag, T, field, lo, hi) \
	{ key, flag, AX_SET_LONG, offsetof(T, field), lo, hi, 0, NULL }
#define AX_SETTING_DOUBLE(key, flag, T, field, lo, hi, open) \
	{ key, flag, AX_SET_DOUBLE, offsetof(T, field), lo, hi, open, NULL }
#define AX_SETTING_FLOAT(key, flag, T, field, lo, hi, open) \
	{ key, flag, AX_SET_FLOAT, offsetof(T, field), lo, hi, open, NULL }
#define AX_SETTING_CHOICE(key, flag, T, field, names) \
	{ key, flag, AX_SET_CHOICE, offsetof(T, field), 0, 0, 0, names }
#define AX_SETTING_BOOL(key, flag, T, field) \
	{ key, flag, AX_SET_BOOL, offsetof(T, field), 0, 1, 0, NULL }
#define AX_SETTING_U64(key, flag, T, field) \
	{ key, flag, AX_SET_U64, offsetof(T, field), 0, 0, 0, NULL }

/* Parse text into the setting's field of *base, range-checked. On failure
 * AX_ERR_ARG with a detail "'70' is outside [1, 64]" (no flag or key: the
 * caller says where the text came from). */
enum ax_status ax_setting_parse(const struct ax_setting *s, const char *text, void *base);
/* The setting's value in *base as text that ax_setting_parse reads back
 * exactly (%.17g for doubles, the name for a choice). */
void ax_setting_format(const struct ax_setting *s, const void *base, char *buf, size_t n);
/* The entry whose key (or flag, "--layers") is name; NULL if none. */
const struct ax_setting *ax_setting_find(const struct ax_setting *table, int n, const char *name);

/* Numbers: the whole text, finite, in [lo, hi]. AX_ERR_ARG with a detail
 * that says which: "'12x' is not an integer", "'1e-320' is out of the range
 * of a double" (under- or overflow), "5 is outside [0, 1]". */
enum ax_status ax_number_long(const char *s, long lo, long hi, long *v);
enum ax_status ax_number_double(const char *s, double lo, double hi, int open, double *v);

/* Lists of numbers: "1,2,3", or "a:b:step" (a, a+step, ... up to b within
 * step/1e6, step > 0), or both mixed: "0,0.1:0.5:0.1,1". Each value in
 * [lo, hi]; at most max values; *v is malloc'd (free it), *n its length.
 * AX_ERR_ARG with the offending item in the detail. */
enum ax_status ax_list_double(const char *s, double lo, double hi, int max, double **v, int *n);
/* Integers: "1,2,3" and "a:b:step" (integers, step >= 1). */
enum ax_status ax_list_int(const char *s, long lo, long hi, int max, int **v, int *n);

#endif
