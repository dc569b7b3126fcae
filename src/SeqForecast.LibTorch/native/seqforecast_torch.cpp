// SeqForecast libtorch shim: a small C ABI over libtorch's C++ API (see seqforecast_torch.h).
#include "seqforecast_torch.h"

#include <torch/torch.h>
#include <ATen/autocast_mode.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#ifdef SF_WITH_DISTRIBUTED
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace {

thread_local std::string last_error;

// Runs body; turns any exception into status 1 and a message for sf_last_error.
template <typename Body>
int guarded(Body&& body) {
    try {
        body();
        return 0;
    } catch (const c10::Error& e) {
        last_error = e.what_without_backtrace();
    } catch (const std::exception& e) {
        last_error = e.what();
    } catch (...) {
        last_error = "unknown native error";
    }
    return 1;
}

// An exception's message without libtorch's C++ backtrace.
std::string describe(const std::exception& e) {
    if (const auto* error = dynamic_cast<const c10::Error*>(&e)) return error->what_without_backtrace();
    return e.what();
}

struct Net : torch::nn::Module {
    bool lstm;
    torch::nn::LSTM lstm_layer{nullptr};
    torch::nn::GRU gru_layer{nullptr};
    torch::nn::Linear head{nullptr};

    explicit Net(const sf_model_options& o) : lstm(o.cell == 0) {
        if (lstm)
            lstm_layer = register_module("rnn", torch::nn::LSTM(torch::nn::LSTMOptions(o.input_size, o.hidden_size)
                .num_layers(o.layers).batch_first(true).dropout(o.dropout)));
        else
            gru_layer = register_module("rnn", torch::nn::GRU(torch::nn::GRUOptions(o.input_size, o.hidden_size)
                .num_layers(o.layers).batch_first(true).dropout(o.dropout)));
        head = register_module("head", torch::nn::Linear(o.hidden_size, o.output_size));
    }

    torch::Tensor forward(const torch::Tensor& x) {
        auto sequence = lstm ? std::get<0>(lstm_layer->forward(x)) : std::get<0>(gru_layer->forward(x));
        return head->forward(sequence.select(1, -1));
    }
};

enum Precision : int32_t { kFloat32 = 0, kTf32 = 1, kMixed = 2 };

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define SF_AUTOCAST_BY_DEVICE 1
#endif

// Autocast on this thread for one call (libtorch keeps it thread-local, so concurrent predictions do not interfere):
// float16 on CUDA, whose cuDNN RNN runs in half precision under autocast, and bfloat16 on the CPU. Leaving the
// outermost scope drops the cached low-precision copies of the weights, as torch.autocast does.
class AutocastScope {
public:
    AutocastScope(bool on, const torch::Device& device) : on_(on), type_(device.type()) {
        if (!on_) return;
        auto dtype = device.is_cuda() ? at::kHalf : at::kBFloat16;
#ifdef SF_AUTOCAST_BY_DEVICE
        was_enabled_ = at::autocast::is_autocast_enabled(type_);
        was_dtype_ = at::autocast::get_autocast_dtype(type_);
        at::autocast::set_autocast_enabled(type_, true);
        at::autocast::set_autocast_dtype(type_, dtype);
#else
        if (device.is_cuda()) {
            was_enabled_ = at::autocast::is_enabled();
            was_dtype_ = at::autocast::get_autocast_gpu_dtype();
            at::autocast::set_enabled(true);
            at::autocast::set_autocast_gpu_dtype(dtype);
        } else {
            was_enabled_ = at::autocast::is_cpu_enabled();
            was_dtype_ = at::autocast::get_autocast_cpu_dtype();
            at::autocast::set_cpu_enabled(true);
            at::autocast::set_autocast_cpu_dtype(dtype);
        }
#endif
        at::autocast::increment_nesting();
    }

    ~AutocastScope() {
        if (!on_) return;
        if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#ifdef SF_AUTOCAST_BY_DEVICE
        at::autocast::set_autocast_enabled(type_, was_enabled_);
        at::autocast::set_autocast_dtype(type_, was_dtype_);
#else
        if (type_ == c10::DeviceType::CUDA) {
            at::autocast::set_enabled(was_enabled_);
            at::autocast::set_autocast_gpu_dtype(was_dtype_);
        } else {
            at::autocast::set_cpu_enabled(was_enabled_);
            at::autocast::set_autocast_cpu_dtype(was_dtype_);
        }
#endif
    }

    AutocastScope(const AutocastScope&) = delete;
    AutocastScope& operator=(const AutocastScope&) = delete;

private:
    bool on_;
    c10::DeviceType type_;
    bool was_enabled_ = false;
    at::ScalarType was_dtype_ = at::kFloat;
};

// Adam and AdamW over all parameters at once with libtorch's _foreach_ operations: the update of
// torch::optim::Adam/AdamW, operation for operation (so on the CPU, where the _foreach_ operations run tensor by tensor,
// the bits are the same), in about ten kernels for the whole model instead of about seven per parameter. On CUDA the
// launches, not the arithmetic, are what a small model's optimizer step costs.
class MultiTensorAdam {
public:
    MultiTensorAdam(std::vector<torch::Tensor> params, const sf_model_options& o, bool decoupled)
        : params_(std::move(params)), lr_(o.learning_rate), beta1_(o.beta1), beta2_(o.beta2), eps_(o.epsilon),
          weight_decay_(o.weight_decay), decoupled_(decoupled) {
        torch::NoGradGuard no_grad;
        for (auto& p : params_) {
            exp_avg_.push_back(torch::zeros_like(p, at::MemoryFormat::Preserve));
            exp_avg_sq_.push_back(torch::zeros_like(p, at::MemoryFormat::Preserve));
        }
    }

    void set_learning_rate(double lr) { lr_ = lr; }

    // Gradients are left undefined, as torch.optim's zero_grad(set_to_none=True) does; backward creates them.
    void zero_grad() {
        for (auto& p : params_) p.mutable_grad().reset();
    }

    void step() {
        torch::NoGradGuard no_grad;
        std::vector<torch::Tensor> grads;
        grads.reserve(params_.size());
        for (auto& p : params_) {
            if (!p.grad().defined()) throw std::logic_error("multi-tensor Adam: a parameter has no gradient");
            grads.push_back(p.grad());
        }
        step_++;
        double bias_correction1 = 1 - std::pow(beta1_, static_cast<double>(step_));
        double bias_correction2 = 1 - std::pow(beta2_, static_cast<double>(step_));
        if (weight_decay_ != 0) {
            if (decoupled_) at::_foreach_mul_(params_, 1 - lr_ * weight_decay_);
            else grads = at::_foreach_add(grads, params_, weight_decay_);
        }
        at::_foreach_mul_(exp_avg_, beta1_);
        at::_foreach_add_(exp_avg_, grads, 1 - beta1_);
        at::_foreach_mul_(exp_avg_sq_, beta2_);
        at::_foreach_addcmul_(exp_avg_sq_, grads, grads, 1 - beta2_);
        auto denominators = at::_foreach_sqrt(exp_avg_sq_);
        at::_foreach_div_(denominators, std::sqrt(bias_correction2));
        at::_foreach_add_(denominators, eps_);
        at::_foreach_addcdiv_(params_, exp_avg_, denominators, -lr_ / bias_correction1);
    }

private:
    std::vector<torch::Tensor> params_, exp_avg_, exp_avg_sq_;
    int64_t step_ = 0;
    double lr_, beta1_, beta2_, eps_, weight_decay_;
    bool decoupled_;
};

}  // namespace

struct sf_group {
#ifdef SF_WITH_DISTRIBUTED
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
#endif
    int32_t rank = 0;
    int32_t world_size = 1;
    std::chrono::milliseconds timeout{0};

    // Sums a tensor over the group in place; rethrows a peer's failure or the timeout with the rank and operation.
    void allreduce(torch::Tensor& tensor, const char* what) {
#ifdef SF_WITH_DISTRIBUTED
        collective(what, [&](std::vector<torch::Tensor>& tensors) { return group->allreduce(tensors); }, tensor);
#else
        unavailable(tensor, what);
#endif
    }

    // Copies rank 0's tensor to every rank, with the same error reporting.
    void broadcast(torch::Tensor& tensor, const char* what) {
#ifdef SF_WITH_DISTRIBUTED
        collective(what, [&](std::vector<torch::Tensor>& tensors) { return group->broadcast(tensors); }, tensor);
#else
        unavailable(tensor, what);
#endif
    }

private:
#ifdef SF_WITH_DISTRIBUTED
    template <typename Start>
    void collective(const char* what, Start start, torch::Tensor& tensor) {
        std::vector<torch::Tensor> tensors{tensor};
        try {
            start(tensors)->wait(timeout);
        } catch (const std::exception& e) {
            throw std::runtime_error("rank " + std::to_string(rank) + " of " + std::to_string(world_size) + ": " + what +
                                     " failed (another process of the group failed, left or did not answer within " +
                                     std::to_string(timeout.count()) + " ms): " + describe(e));
        }
    }
#else
    [[noreturn]] static void unavailable(torch::Tensor&, const char*) {
        throw std::runtime_error("this shim was built without distributed support");
    }
#endif
};

struct sf_model {
    sf_model_options options;
    torch::Device device;
    std::shared_ptr<Net> net;
    std::unique_ptr<torch::optim::Optimizer> optimizer;  // SGD, or Adam/AdamW tensor by tensor
    std::unique_ptr<MultiTensorAdam> multi_tensor;       // or Adam/AdamW over all parameters at once
    torch::Tensor pending;  // output of the last sf_forward_train, with its graph, until sf_backward_step
    bool pending_empty = false;  // the last sf_forward_train had no rows (a process's empty share of a step)
    std::shared_ptr<sf_group> group;  // gradients are averaged over it when set
    double loss_scale = 1;         // mixed precision: the dynamic loss scale
    int64_t finite_steps = 0;      // mixed precision: steps in a row with finite gradients since the scale last changed
    int64_t skipped_steps = 0;     // mixed precision: steps skipped for non-finite gradients

    torch::Tensor random_state;    // this model's stream of libtorch's generator for its device (dropout masks)

    sf_model(const sf_model_options& o, torch::Device d) : options(o), device(d) {
        if (mixed()) loss_scale = o.loss_scale;
    }

    bool mixed() const { return options.precision == kMixed; }

    // What every call that runs the network does first: TF32 on or off (a process-wide libtorch switch, set for this
    // model's mode on each call) and, in mixed precision, autocast for the call.
    AutocastScope compute() const {
        if (device.is_cuda()) {
            at::globalContext().setAllowTF32CuBLAS(options.precision == kTf32);
            at::globalContext().setAllowTF32CuDNN(options.precision == kTf32);
        }
        return AutocastScope(mixed(), device);
    }

    // A caller's host buffer on the model's device. On CUDA it goes through a page-locked buffer of libtorch's caching
    // host allocator and an asynchronous copy, so the call does not wait for the work queued before it; the allocator
    // keeps the buffer until the copy is done, and each call takes its own, so concurrent predictions are safe. On the
    // CPU the caller's buffer is used as it is (it stays pinned and unchanged for the whole call).
    torch::Tensor upload(const float* data, at::IntArrayRef shape) const {
        return upload(const_cast<float*>(data), shape, torch::kFloat32);
    }

    torch::Tensor upload(void* data, at::IntArrayRef shape, torch::ScalarType type) const {
        auto host = torch::from_blob(data, shape, type);
        if (!device.is_cuda()) return host.to(device);
        auto pinned = torch::empty(shape, torch::TensorOptions().dtype(type).pinned_memory(true));
        pinned.copy_(host);
        return pinned.to(device, /*non_blocking=*/true);
    }

    torch::Tensor input(const float* data, int32_t batch, int32_t time) const {
        return upload(data, {batch, time, options.input_size});
    }

    torch::Tensor target(const float* data, int32_t batch) const {
        return upload(data, {batch, options.output_size});
    }

    // The network's outputs in float32 (autocast leaves the head's in float16 or bfloat16).
    torch::Tensor forward(const torch::Tensor& x) const {
        auto output = net->forward(x);
        return output.scalar_type() == torch::kFloat32 ? output : output.to(torch::kFloat32);
    }

    torch::Tensor loss(const torch::Tensor& prediction, const torch::Tensor& target) const {
        switch (options.loss) {
            case 1: return torch::l1_loss(prediction, target);
            case 2: return torch::huber_loss(prediction, target, at::Reduction::Mean, options.huber_delta);
            default: return torch::mse_loss(prediction, target);
        }
    }

    torch::Tensor parameter(const std::string& name) {
        auto* found = net->named_parameters().find(name);
        if (found == nullptr) throw std::invalid_argument("no parameter is named '" + name + "'");
        return *found;
    }

    // With a group: replaces every gradient by the row-weighted mean over the group, and the loss by the mean over
    // every process's rows, in one all-reduce of [rows·grad..., rows, rows·loss].
    void reduce(int64_t rows, double& loss) {
        if (!group) return;
        auto params = net->parameters();
        std::vector<torch::Tensor> pieces;
        pieces.reserve(params.size() + 1);
        for (auto& p : params)
            pieces.push_back(p.grad().defined() ? p.grad().reshape({-1}) : torch::zeros({p.numel()}, p.options()));
        // Weighted in float64: a float32 product could overflow where the mean does not (mixed precision's scaled gradients).
        auto flat = torch::cat(pieces).to(torch::kCPU).to(torch::kFloat64).mul_(static_cast<double>(rows));
        auto tail = torch::tensor({static_cast<double>(rows), static_cast<double>(rows) * loss}, torch::kFloat64);
        auto packed = torch::cat({flat, tail});
        group->allreduce(packed, "averaging gradients");
        double total = packed[packed.numel() - 2].item<double>();
        if (!(total > 0)) throw std::runtime_error("the processes of the group had no rows in this step");
        loss = packed[packed.numel() - 1].item<double>() / total;
        auto mean = packed.narrow(0, 0, flat.numel()).div_(total).to(torch::kFloat32).to(device);
        int64_t offset = 0;
        torch::NoGradGuard no_grad;
        for (auto& p : params) {
            auto slice = mean.narrow(0, offset, p.numel()).view(p.sizes());
            if (p.grad().defined()) p.mutable_grad().copy_(slice);
            else p.mutable_grad() = slice.clone();
            offset += p.numel();
        }
    }

    void zero_gradients() {
        torch::NoGradGuard no_grad;
        for (auto& p : net->parameters()) {
            if (p.grad().defined()) p.mutable_grad().zero_();
            else p.mutable_grad() = torch::zeros_like(p);
        }
    }

    // Mixed precision: unscales the gradients and, when any is not finite (the scale was too large), skips the step
    // and lowers the scale; after growth_interval finite steps in a row the scale grows. Then clips and steps.
    void clip_and_step() {
        torch::NoGradGuard no_grad;
        std::vector<torch::Tensor> grads;
        for (auto& p : net->parameters())
            if (p.grad().defined()) grads.push_back(p.grad());
        if (mixed() && !grads.empty()) {
            std::vector<torch::Tensor> finite;
            finite.reserve(grads.size());
            for (auto& g : grads) {
                g.mul_(1.0 / loss_scale);
                finite.push_back(g.isfinite().all());
            }
            if (!torch::stack(finite).all().item<bool>()) {
                skipped_steps++;
                finite_steps = 0;
                loss_scale *= options.scale_backoff;
                return;
            }
            if (++finite_steps >= options.growth_interval) {
                finite_steps = 0;
                if (std::isfinite(loss_scale * options.scale_growth)) loss_scale *= options.scale_growth;
            }
        }
        // torch::nn::utils::clip_grad_norm_'s arithmetic without its closing item(), which would wait for the device.
        if (options.clip_norm > 0 && !grads.empty()) {
            std::vector<torch::Tensor> norms;
            norms.reserve(grads.size());
            for (auto& g : grads) norms.push_back(g.norm(2));
            auto total = norms.size() == 1 ? norms[0] : torch::stack(norms).norm(2);
            auto coefficient = torch::clamp_max(options.clip_norm / (total + 1e-6), 1.0);
            for (auto& g : grads) g.mul_(coefficient);
        }
        if (multi_tensor) multi_tensor->step();
        else optimizer->step();
    }

    void zero_grad() {
        if (multi_tensor) multi_tensor->zero_grad();
        else optimizer->zero_grad();
    }

    void set_learning_rate(double learning_rate) {
        if (multi_tensor) multi_tensor->set_learning_rate(learning_rate);
        else
            for (auto& group : optimizer->param_groups()) group.options().set_lr(learning_rate);
    }

    // The loss or the outputs' gradient scaled for backward in mixed precision.
    torch::Tensor scaled(const torch::Tensor& value) const { return mixed() ? value * loss_scale : value; }
};

extern "C" {

const char* sf_last_error(void) { return last_error.c_str(); }

int sf_abi_version(int32_t* version) {
    return guarded([&] { *version = SF_ABI_VERSION; });
}

int sf_version(int32_t* major, int32_t* minor, int32_t* patch) {
    return guarded([&] {
        *major = TORCH_VERSION_MAJOR;
        *minor = TORCH_VERSION_MINOR;
        *patch = TORCH_VERSION_PATCH;
    });
}

int sf_cuda_device_count(int32_t* count) {
    return guarded([&] { *count = torch::cuda::is_available() ? static_cast<int32_t>(torch::cuda::device_count()) : 0; });
}

int sf_set_threads(int32_t threads) {
    return guarded([&] { torch::set_num_threads(threads); });
}

int sf_manual_seed(uint64_t seed) {
    return guarded([&] { torch::manual_seed(seed); });
}

int sf_create(const sf_model_options* options, const char* device, sf_model** model) {
    *model = nullptr;
    return guarded([&] {
        torch::Device target(device);
        const auto& p = *options;
        if (p.precision < kFloat32 || p.precision > kMixed)
            throw std::invalid_argument("precision (" + std::to_string(p.precision) + ") must be 0 (float32), 1 (TF32) or 2 (mixed)");
        if (p.precision == kTf32 && !target.is_cuda())
            throw std::invalid_argument("precision TF32 runs on CUDA tensor cores only; device " + target.str() + " computes in float32");
        if (p.precision == kMixed && (!(p.loss_scale > 0) || !std::isfinite(p.loss_scale) || !(p.scale_growth > 1) ||
                                      !(p.scale_backoff > 0 && p.scale_backoff < 1) || p.growth_interval < 1))
            throw std::invalid_argument("mixed precision needs loss_scale > 0 (" + std::to_string(p.loss_scale) + "), scale_growth > 1 (" +
                                        std::to_string(p.scale_growth) + "), scale_backoff in (0, 1) (" + std::to_string(p.scale_backoff) +
                                        ") and growth_interval >= 1 (" + std::to_string(p.growth_interval) + ")");
        if (target.is_cuda()) {
            if (!torch::cuda::is_available())
                throw std::runtime_error("CUDA is not available: this libtorch has no CUDA support or no GPU is visible");
            if (target.has_index() && target.index() >= static_cast<int>(torch::cuda::device_count()))
                throw std::runtime_error("CUDA device " + std::to_string(target.index()) + " does not exist; " +
                                         std::to_string(torch::cuda::device_count()) + " device(s) are visible");
        }
        auto created = std::make_unique<sf_model>(*options, target);
        created->net = std::make_shared<Net>(*options);
        created->net->to(target);
        created->net->eval();
        auto params = created->net->parameters();
        const auto& o = p;
        if (o.multi_tensor_adam < 0 || o.multi_tensor_adam > 2)
            throw std::invalid_argument("multi_tensor_adam (" + std::to_string(o.multi_tensor_adam) + ") must be 0 (CUDA only), 1 (never) or 2 (always)");
        bool multi_tensor = o.multi_tensor_adam == 2 || (o.multi_tensor_adam == 0 && target.is_cuda());
        if (o.optimizer <= 1 && multi_tensor)
            created->multi_tensor = std::make_unique<MultiTensorAdam>(params, o, o.optimizer == 1);
        else if (o.optimizer == 0)
            created->optimizer = std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(o.learning_rate)
                .betas({o.beta1, o.beta2}).eps(o.epsilon).weight_decay(o.weight_decay));
        else if (o.optimizer == 1)
            created->optimizer = std::make_unique<torch::optim::AdamW>(params, torch::optim::AdamWOptions(o.learning_rate)
                .betas({o.beta1, o.beta2}).eps(o.epsilon).weight_decay(o.weight_decay));
        else
            created->optimizer = std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(o.learning_rate)
                .momentum(o.momentum).dampening(o.dampening).weight_decay(o.weight_decay).nesterov(o.nesterov != 0));
        // The model's own stream of dropout masks (ModelRandom) starts where the generator stands now, just after
        // sf_manual_seed and the model's construction: a model trained alone draws what it always drew.
        {
            auto generator = at::globalContext().defaultGenerator(target);
            std::lock_guard<std::mutex> guard(generator.mutex());
            created->random_state = generator.get_state();
        }
        *model = created.release();
    });
}

void sf_free(sf_model* model) { delete model; }

// Training passes switch the module to training mode and back, so between them it is always in eval mode and
// concurrent sf_predict calls never write module state.
// Dropout draws from libtorch's process-wide generator of the device. So that a model's masks depend only on its own
// seed and steps, and not on other models trained in between or at the same time, each model keeps its own generator
// state and swaps it in for its training passes, under one process-wide lock (models without dropout draw nothing and
// skip it).
class ModelRandom {
public:
    explicit ModelRandom(sf_model* model) : model_(model->options.dropout > 0 ? model : nullptr) {
        if (!model_) return;
        lock_ = std::unique_lock<std::mutex>(mutex());
        generator_ = at::globalContext().defaultGenerator(model_->device);
        std::lock_guard<std::mutex> guard(generator_.mutex());
        saved_ = generator_.get_state();
        generator_.set_state(model_->random_state);
    }

    ~ModelRandom() {
        if (!model_) return;
        try {
            std::lock_guard<std::mutex> guard(generator_.mutex());
            model_->random_state = generator_.get_state();
            generator_.set_state(saved_);
        } catch (...) {
        }
    }

    ModelRandom(const ModelRandom&) = delete;
    ModelRandom& operator=(const ModelRandom&) = delete;

private:
    static std::mutex& mutex() {
        static std::mutex instance;
        return instance;
    }

    sf_model* model_;
    std::unique_lock<std::mutex> lock_;
    at::Generator generator_;
    torch::Tensor saved_;
};

struct sf_windows {
    torch::Tensor inputs;   // [count, time, input] on the model's device
    torch::Tensor targets;  // [count, output]
    int64_t count;
    int32_t time, input_size, output_size;
};

static void check_batch(const sf_model* model, int32_t batch) {
    if (batch < 0 || (batch == 0 && !model->group)) throw std::invalid_argument("batch (" + std::to_string(batch) + ") must be > 0");
}

// One training step on a batch that is already on the device (x and y undefined for an empty share).
static void train_on(sf_model* model, int32_t batch, const torch::Tensor& x, const torch::Tensor& y, double* loss) {
    ModelRandom random(model);
    model->net->train();
    try {
        model->zero_grad();
        double value = 0;
        torch::Tensor computed;
        if (batch > 0) {
            {
                auto scope = model->compute();  // autocast covers the forward pass and the loss, not backward
                computed = model->loss(model->forward(x), y);
            }
            model->scaled(computed).backward();
        } else {
            model->zero_gradients();
        }
        if (model->group) {
            if (batch > 0) value = computed.item<double>();
            model->reduce(batch, value);
            model->clip_and_step();
        } else {
            // The step is queued before the loss is read, so the host does not wait for the device in between.
            model->clip_and_step();
            value = computed.item<double>();
        }
        *loss = value;
    } catch (...) {
        model->net->eval();
        throw;
    }
    model->net->eval();
}

int sf_train_step(sf_model* model, const float* inputs, const float* targets, int32_t batch, int32_t time, double* loss) {
    return guarded([&] {
        check_batch(model, batch);
        torch::Tensor x, y;
        if (batch > 0) {
            x = model->input(inputs, batch, time);
            y = model->target(targets, batch);
        }
        train_on(model, batch, x, y, loss);
    });
}

int sf_windows_create(sf_model* model, int64_t count, int32_t time, sf_windows** windows) {
    bool allocating = false;
    int status = guarded([&] {
        if (count <= 0) throw std::invalid_argument("window count (" + std::to_string(count) + ") must be > 0");
        if (time <= 0) throw std::invalid_argument("time steps (" + std::to_string(time) + ") must be > 0");
        auto created = std::make_unique<sf_windows>();
        auto options = torch::TensorOptions().dtype(torch::kFloat32).device(model->device);
        allocating = true;
        created->inputs = torch::empty({count, time, model->options.input_size}, options);
        created->targets = torch::empty({count, model->options.output_size}, options);
        allocating = false;
        created->count = count;
        created->time = time;
        created->input_size = model->options.input_size;
        created->output_size = model->options.output_size;
        *windows = created.release();
    });
    // 2: the device had no room (the allocation itself failed), so the caller can train on uploaded batches instead.
    return status != 0 && allocating ? 2 : status;
}

int sf_windows_write(sf_windows* windows, int64_t first, const float* inputs, const float* targets, int64_t count) {
    return guarded([&] {
        if (first < 0 || count < 0 || first + count > windows->count)
            throw std::invalid_argument("windows [" + std::to_string(first) + ", " + std::to_string(first + count) + ") must lie in [0, " + std::to_string(windows->count) + ")");
        if (count == 0) return;
        windows->inputs.narrow(0, first, count).copy_(torch::from_blob(const_cast<float*>(inputs), {count, windows->time, windows->input_size}, torch::kFloat32));
        windows->targets.narrow(0, first, count).copy_(torch::from_blob(const_cast<float*>(targets), {count, windows->output_size}, torch::kFloat32));
    });
}

void sf_windows_free(sf_windows* windows) { delete windows; }

int sf_train_step_indexed(sf_model* model, sf_windows* windows, const int64_t* indices, int32_t batch, double* loss) {
    return guarded([&] {
        check_batch(model, batch);
        if (windows->input_size != model->options.input_size || windows->output_size != model->options.output_size)
            throw std::invalid_argument("the resident windows were made for another network shape");
        if (windows->inputs.device() != model->device) throw std::invalid_argument("the resident windows are on another device");
        for (int32_t i = 0; i < batch; i++)
            if (indices[i] < 0 || indices[i] >= windows->count)
                throw std::invalid_argument("window index " + std::to_string(indices[i]) + " (position " + std::to_string(i) + ") must be in [0, " + std::to_string(windows->count) + ")");
        torch::Tensor x, y;
        if (batch > 0) {
            auto rows = model->upload(const_cast<int64_t*>(indices), {batch}, torch::kInt64);
            x = windows->inputs.index_select(0, rows);
            y = windows->targets.index_select(0, rows);
        }
        train_on(model, batch, x, y, loss);
    });
}

int sf_forward_train(sf_model* model, const float* inputs, int32_t batch, int32_t time, float* outputs) {
    return guarded([&] {
        model->pending = torch::Tensor();
        model->pending_empty = false;
        if (batch < 0 || (batch == 0 && !model->group)) throw std::invalid_argument("batch (" + std::to_string(batch) + ") must be > 0");
        if (batch == 0) {
            model->pending_empty = true;
            return;
        }
        ModelRandom random(model);
        model->net->train();
        try {
            model->zero_grad();
            auto scope = model->compute();
            auto output = model->forward(model->input(inputs, batch, time));
            auto host = output.detach().to(torch::kCPU).contiguous();
            std::memcpy(outputs, host.data_ptr<float>(), sizeof(float) * static_cast<size_t>(host.numel()));
            model->pending = output;
        } catch (...) {
            model->net->eval();
            throw;
        }
        model->net->eval();
    });
}

int sf_backward_step(sf_model* model, const float* d_outputs, double* loss) {
    return guarded([&] {
        if (model->pending_empty) {
            model->pending_empty = false;
            model->zero_grad();
            model->zero_gradients();
            double value = 0;
            model->reduce(0, value);
            model->clip_and_step();
            *loss = value;
            return;
        }
        if (!model->pending.defined()) throw std::logic_error("sf_backward_step needs a preceding sf_forward_train");
        auto output = model->pending;
        model->pending = torch::Tensor();
        auto gradient = model->upload(d_outputs, output.sizes());
        output.backward(model->scaled(gradient));
        double value = *loss;
        model->reduce(output.size(0), value);
        model->clip_and_step();
        *loss = value;
    });
}

int sf_evaluate(sf_model* model, const float* inputs, const float* targets, int32_t batch, int32_t time, double* loss) {
    return guarded([&] {
        torch::NoGradGuard no_grad;
        auto scope = model->compute();
        *loss = model->loss(model->forward(model->input(inputs, batch, time)), model->target(targets, batch)).item<double>();
    });
}

int sf_predict(sf_model* model, const float* inputs, int32_t batch, int32_t time, float* outputs) {
    return guarded([&] {
        torch::NoGradGuard no_grad;
        auto scope = model->compute();
        auto result = model->forward(model->input(inputs, batch, time)).to(torch::kCPU).contiguous();
        std::memcpy(outputs, result.data_ptr<float>(), sizeof(float) * static_cast<size_t>(result.numel()));
    });
}

int sf_get_parameter(sf_model* model, const char* name, float* destination, int64_t count) {
    return guarded([&] {
        auto value = model->parameter(name).detach().to(torch::kCPU).contiguous();
        if (value.numel() != count)
            throw std::invalid_argument("parameter '" + std::string(name) + "' has " + std::to_string(value.numel()) +
                                        " values; the caller expects " + std::to_string(count));
        std::memcpy(destination, value.data_ptr<float>(), sizeof(float) * static_cast<size_t>(count));
    });
}

int sf_set_parameter(sf_model* model, const char* name, const float* source, int64_t count) {
    return guarded([&] {
        torch::NoGradGuard no_grad;
        auto target = model->parameter(name);
        if (target.numel() != count)
            throw std::invalid_argument("parameter '" + std::string(name) + "' has " + std::to_string(target.numel()) +
                                        " values; the caller gave " + std::to_string(count));
        auto host = torch::from_blob(const_cast<float*>(source), target.sizes(), torch::kFloat32);
        target.copy_(host);
    });
}

int sf_set_learning_rate(sf_model* model, double learning_rate) {
    return guarded([&] {
        model->set_learning_rate(learning_rate);
    });
}

int sf_loss_scale(sf_model* model, double* scale, int64_t* skipped_steps) {
    return guarded([&] {
        *scale = model->loss_scale;
        *skipped_steps = model->skipped_steps;
    });
}

int sf_group_create(const char* backend, const char* address, int32_t port, int32_t rank, int32_t world_size, int64_t timeout_ms, sf_group** group) {
    *group = nullptr;
    return guarded([&] {
        std::string kind(backend);
        if (kind != "gloo") throw std::invalid_argument("backend '" + kind + "' is not supported by this shim; use \"gloo\"");
        if (world_size < 1) throw std::invalid_argument("world size (" + std::to_string(world_size) + ") must be >= 1");
        if (rank < 0 || rank >= world_size)
            throw std::invalid_argument("rank (" + std::to_string(rank) + ") must be in [0, " + std::to_string(world_size) + ")");
        if (port < 1 || port > 65535) throw std::invalid_argument("port (" + std::to_string(port) + ") must be in [1, 65535]");
        if (timeout_ms < 1) throw std::invalid_argument("timeout (" + std::to_string(timeout_ms) + " ms) must be >= 1 ms");
#ifdef SF_WITH_DISTRIBUTED
        auto created = std::make_unique<sf_group>();
        created->rank = rank;
        created->world_size = world_size;
        created->timeout = std::chrono::milliseconds(timeout_ms);
        c10d::TCPStoreOptions store_options;
        store_options.port = static_cast<std::uint16_t>(port);
        store_options.isServer = rank == 0;
        store_options.numWorkers = static_cast<std::size_t>(world_size);
        store_options.waitWorkers = true;
        store_options.timeout = created->timeout;
        try {
            auto tcp = c10::make_intrusive<c10d::TCPStore>(std::string(address), store_options);
            created->store = c10::make_intrusive<c10d::PrefixStore>("seqforecast", tcp);
            auto options = c10d::ProcessGroupGloo::Options::create(created->timeout);
            options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(address));
            created->group = c10::make_intrusive<c10d::ProcessGroupGloo>(created->store, rank, world_size, options);
        } catch (const std::exception& e) {
            throw std::runtime_error("rank " + std::to_string(rank) + " of " + std::to_string(world_size) + " could not join the group at " +
                                     std::string(address) + ":" + std::to_string(port) + " within " + std::to_string(timeout_ms) +
                                     " ms (is every rank started, with the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE?): " + describe(e));
        }
        *group = created.release();
#else
        (void)address;
        throw std::runtime_error("this shim was built without distributed support (Gloo headers were not found: on Debian "
                                 "apt-get install libgloo-dev; with pip's torch, which has none, set GLOO_INCLUDE for build.sh or "
                                 "-p:GlooInclude for BuildLibTorchShim to a folder holding gloo/; then rebuild the shim)");
#endif
    });
}

void sf_group_free(sf_group* group) { delete group; }

int sf_group_allreduce_sum(sf_group* group, double* values, int32_t count) {
    return guarded([&] {
        if (count < 1) throw std::invalid_argument("count (" + std::to_string(count) + ") must be >= 1");
        auto tensor = torch::from_blob(values, {count}, torch::kFloat64).clone();
        group->allreduce(tensor, "all-reduce");
        std::memcpy(values, tensor.data_ptr<double>(), sizeof(double) * static_cast<size_t>(count));
    });
}

int sf_attach_group(sf_model* model, sf_group* group) {
    return guarded([&] {
        // The group outlives the handle the caller frees: models keep a shared copy of its state.
        auto shared = std::make_shared<sf_group>(*group);
        torch::NoGradGuard no_grad;
        for (auto& p : model->net->parameters()) {
            auto host = p.detach().to(torch::kCPU).contiguous();
            shared->broadcast(host, "broadcasting the initial parameters from rank 0");
            p.copy_(host.to(model->device));
        }
        model->group = shared;
    });
}

}  // extern "C"
