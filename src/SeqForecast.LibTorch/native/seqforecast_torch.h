/* C ABI of the SeqForecast libtorch shim.
 *
 * Conventions: every function returns 0 on success and 1 on failure; on failure sf_last_error() returns the message
 * (libtorch's own text where it came from libtorch), valid until the next call on the same thread. No exception ever
 * crosses this boundary. Tensors cross it as float32 row-major host buffers owned by the caller:
 * inputs [batch, time, input], targets and outputs [batch, output]. Parameters are addressed by their PyTorch names
 * ("rnn.weight_ih_l0", ..., "head.weight", "head.bias") and copied to or from the model's device.
 */
#ifndef SEQFORECAST_TORCH_H
#define SEQFORECAST_TORCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a signature changes; the managed side refuses a shim of another version. */
#define SF_ABI_VERSION 4

typedef struct sf_model sf_model;
typedef struct sf_group sf_group;
typedef struct sf_windows sf_windows;

typedef struct sf_model_options {
    int32_t cell;          /* 0 LSTM, 1 GRU */
    int32_t input_size;
    int32_t hidden_size;
    int32_t layers;
    int32_t output_size;
    double dropout;
    int32_t loss;          /* 0 MSE, 1 L1, 2 Huber */
    double huber_delta;
    int32_t optimizer;     /* 0 Adam, 1 AdamW, 2 SGD */
    double learning_rate;
    double weight_decay;
    double beta1, beta2, epsilon;
    double momentum, dampening;
    int32_t nesterov;
    double clip_norm;      /* <= 0: no clipping */
    /* 0 float32; 1 TF32 (CUDA only: matrix products on tensor cores with 10-bit mantissas); 2 mixed: autocast
     * (float16 on CUDA, bfloat16 on the CPU) with float32 master weights and dynamic loss scaling. */
    int32_t precision;
    double loss_scale;       /* mixed: the initial loss scale (> 0) */
    double scale_growth;     /* mixed: factor applied after growth_interval steps in a row with finite gradients (> 1) */
    double scale_backoff;    /* mixed: factor applied when a step's gradients are not finite; the step is skipped (in (0, 1)) */
    int32_t growth_interval; /* mixed: >= 1 */
    /* Adam and AdamW as multi-tensor (foreach) updates, a few kernels for all parameters instead of a few per parameter,
     * with the single-tensor arithmetic: 0 on CUDA devices only (the default), 1 never, 2 always. */
    int32_t multi_tensor_adam;
} sf_model_options;

const char* sf_last_error(void);
int sf_abi_version(int32_t* version);
int sf_version(int32_t* major, int32_t* minor, int32_t* patch);
int sf_cuda_device_count(int32_t* count);
int sf_set_threads(int32_t threads);
int sf_manual_seed(uint64_t seed);

int sf_create(const sf_model_options* options, const char* device, sf_model** model);
void sf_free(sf_model* model);

/* One training step. With a process group attached (sf_attach_group) the batch is this process's share of the step
 * (it may be 0) and *loss on return is the mean over every process's rows. */
int sf_train_step(sf_model* model, const float* inputs, const float* targets, int32_t batch, int32_t time, double* loss);
/* Training in two halves, for losses computed by the caller: sf_forward_train runs the forward pass in training mode,
 * writes the outputs [batch, output] and keeps the graph; sf_backward_step backpropagates d_outputs [batch, output]
 * through it, clips and steps the optimizer. *loss holds the caller's loss on entry and, with a process group, the
 * mean over every process's rows on return. */
/* Training windows kept on the model's device, so that a step sends only window indices.
 * sf_windows_create allocates count windows of inputs [count, time, input] and targets [count, output] on the model's
 * device (uninitialised), and returns 2 (not 1) when the allocation itself fails: the device has no room;
 * sf_windows_write copies windows [first, first + count) from host buffers into them. */
int sf_windows_create(sf_model* model, int64_t count, int32_t time, sf_windows** windows);
int sf_windows_write(sf_windows* windows, int64_t first, const float* inputs, const float* targets, int64_t count);
void sf_windows_free(sf_windows* windows);
/* sf_train_step on windows indices[0..batch) of resident windows, gathered on the device (the same bits as passing
 * those windows' values to sf_train_step). Every index must be in [0, count); with a process group batch may be 0. */
int sf_train_step_indexed(sf_model* model, sf_windows* windows, const int64_t* indices, int32_t batch, double* loss);
int sf_forward_train(sf_model* model, const float* inputs, int32_t batch, int32_t time, float* outputs);
int sf_backward_step(sf_model* model, const float* d_outputs, double* loss);
int sf_evaluate(sf_model* model, const float* inputs, const float* targets, int32_t batch, int32_t time, double* loss);
int sf_predict(sf_model* model, const float* inputs, int32_t batch, int32_t time, float* outputs);

int sf_get_parameter(sf_model* model, const char* name, float* destination, int64_t count);
int sf_set_parameter(sf_model* model, const char* name, const float* source, int64_t count);
int sf_set_learning_rate(sf_model* model, double learning_rate);
/* Mixed precision: the current loss scale and how many steps were skipped for non-finite gradients (1 and 0 otherwise). */
int sf_loss_scale(sf_model* model, double* scale, int64_t* skipped_steps);

/* Data-parallel training over c10d process groups (the engine behind torch.distributed).
 * sf_group_create joins a group of world_size processes: rank 0 hosts the rendezvous store on address:port, the others
 * connect to it; timeout_ms bounds the rendezvous and every collective, so a rank that dies or stops ends the others'
 * calls with an error. backend: "gloo" (CPU and CUDA tensors). Fails with a message when the shim was built without
 * distributed support. */
int sf_group_create(const char* backend, const char* address, int32_t port, int32_t rank, int32_t world_size, int64_t timeout_ms, sf_group** group);
void sf_group_free(sf_group* group);
int sf_group_allreduce_sum(sf_group* group, double* values, int32_t count);
/* From now on the model's gradients are averaged over the group (weighted by each process's rows) before clipping and
 * the optimizer step; its parameters are broadcast from rank 0 first, so every process starts from the same weights. */
int sf_attach_group(sf_model* model, sf_group* group);

#ifdef __cplusplus
}
#endif

#endif
