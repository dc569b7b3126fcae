// SeqForecast libtorch shim: a small C ABI over libtorch's C++ API (see seqforecast_torch.h).
#include "seqforecast_torch.h"

#include <torch/torch.h>

#include <memory>
#include <string>

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

}  // namespace

struct sf_model {
    sf_model_options options;
    torch::Device device;
    std::shared_ptr<Net> net;
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    torch::Tensor pending;  // output of the last sf_forward_train, with its graph, until sf_backward_step

    sf_model(const sf_model_options& o, torch::Device d) : options(o), device(d) {}

    torch::Tensor input(const float* data, int32_t batch, int32_t time) const {
        auto host = torch::from_blob(const_cast<float*>(data), {batch, time, options.input_size}, torch::kFloat32);
        return host.to(device);
    }

    torch::Tensor target(const float* data, int32_t batch) const {
        auto host = torch::from_blob(const_cast<float*>(data), {batch, options.output_size}, torch::kFloat32);
        return host.to(device);
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
};

extern "C" {

const char* sf_last_error(void) { return last_error.c_str(); }

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
        if (target.is_cuda()) {
            // Full float32 on the GPU, as on the CPU: TF32 would round matrix products to 10-bit mantissas.
            at::globalContext().setAllowTF32CuDNN(false);
            at::globalContext().setAllowTF32CuBLAS(false);
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
        const auto& o = *options;
        if (o.optimizer == 0)
            created->optimizer = std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(o.learning_rate)
                .betas({o.beta1, o.beta2}).eps(o.epsilon).weight_decay(o.weight_decay));
        else if (o.optimizer == 1)
            created->optimizer = std::make_unique<torch::optim::AdamW>(params, torch::optim::AdamWOptions(o.learning_rate)
                .betas({o.beta1, o.beta2}).eps(o.epsilon).weight_decay(o.weight_decay));
        else
            created->optimizer = std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(o.learning_rate)
                .momentum(o.momentum).dampening(o.dampening).weight_decay(o.weight_decay).nesterov(o.nesterov != 0));
        *model = created.release();
    });
}

void sf_free(sf_model* model) { delete model; }

// Training passes switch the module to training mode and back, so between them it is always in eval mode and
// concurrent sf_predict calls never write module state.
int sf_train_step(sf_model* model, const float* inputs, const float* targets, int32_t batch, int32_t time, double* loss) {
    return guarded([&] {
        model->net->train();
        try {
            model->optimizer->zero_grad();
            auto value = model->loss(model->net->forward(model->input(inputs, batch, time)), model->target(targets, batch));
            value.backward();
            if (model->options.clip_norm > 0) torch::nn::utils::clip_grad_norm_(model->net->parameters(), model->options.clip_norm);
            model->optimizer->step();
            *loss = value.item<double>();
        } catch (...) {
            model->net->eval();
            throw;
        }
        model->net->eval();
    });
}

int sf_forward_train(sf_model* model, const float* inputs, int32_t batch, int32_t time, float* outputs) {
    return guarded([&] {
        model->pending = torch::Tensor();
        model->net->train();
        try {
            model->optimizer->zero_grad();
            auto output = model->net->forward(model->input(inputs, batch, time));
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

int sf_backward_step(sf_model* model, const float* d_outputs) {
    return guarded([&] {
        if (!model->pending.defined()) throw std::logic_error("sf_backward_step needs a preceding sf_forward_train");
        auto output = model->pending;
        model->pending = torch::Tensor();
        auto gradient = torch::from_blob(const_cast<float*>(d_outputs), output.sizes(), torch::kFloat32).to(model->device);
        output.backward(gradient);
        if (model->options.clip_norm > 0) torch::nn::utils::clip_grad_norm_(model->net->parameters(), model->options.clip_norm);
        model->optimizer->step();
    });
}

int sf_evaluate(sf_model* model, const float* inputs, const float* targets, int32_t batch, int32_t time, double* loss) {
    return guarded([&] {
        torch::NoGradGuard no_grad;
        *loss = model->loss(model->net->forward(model->input(inputs, batch, time)), model->target(targets, batch)).item<double>();
    });
}

int sf_predict(sf_model* model, const float* inputs, int32_t batch, int32_t time, float* outputs) {
    return guarded([&] {
        torch::NoGradGuard no_grad;
        auto result = model->net->forward(model->input(inputs, batch, time)).to(torch::kCPU).contiguous();
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
        for (auto& group : model->optimizer->param_groups()) group.options().set_lr(learning_rate);
    });
}

}  // extern "C"
