/* axon.h — the one public header of libaxon: include this.
 *
 *   ax_base.h     status codes, error detail, assertions
 *   ax_tensor.h   arenas and tensors (ownership rules there)
 *   ax_kernels.h  forward/backward kernels on raw float arrays
 *   ax_tape.h     reverse-mode autograd and the differentiable ops
 *   ax_nn.h       named parameters, initialisers, layers
 *   ax_optim.h    optimisers, clipping, schedules
 *   ax_rng.h      seeded, splittable random numbers
 *   ax_stats.h    bits/spike, ridge and logistic regression, R^2
 *   ax_io.h       NPY, safetensors, CSV, IDX, atomic files
 *   ax_nwb.h      NWB 2.x recordings (HDF5): units, tables, time series
 *   ax_settings.h typed settings (flag and checkpoint), number and list parsing
 *   ax_checkpoint.h  RNG state and metadata in checkpoints
 *   ax_dist.h     data parallelism over MPI (optional; one rank without it)
 *   ax_plot.h     PNG figures
 *   ax_profile.h  per-op time and GFLOP/s (AX_PROFILE=1)
 *   ax_cli.h      what commands share (with ax_run.h, the only part that prints/exits)
 *   ax_run.h      a training run: log, checkpoint, stop-at, signals, NaN
 */
#ifndef AXON_H
#define AXON_H

#include "ax_augment.h"
#include "ax_base.h"
#include "ax_checkpoint.h"
#include "ax_cli.h"
#include "ax_dist.h"
#include "ax_io.h"
#include "ax_kernels.h"
#include "ax_nn.h"
#include "ax_nwb.h"
#include "ax_optim.h"
#include "ax_plot.h"
#include "ax_profile.h"
#include "ax_rng.h"
#include "ax_run.h"
#include "ax_settings.h"
#include "ax_stats.h"
#include "ax_tape.h"
#include "ax_tensor.h"

#endif
