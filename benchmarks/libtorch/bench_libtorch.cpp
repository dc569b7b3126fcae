// Plain C++ loop over libtorch: the same train step (forward, MSE, backward, Adam) and one-window predict as the
// SeqForecast benchmarks, with no shim and no .NET, to measure the binding's own overhead.
// Build and run: benchmarks/libtorch/run.sh
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

struct Net : torch::nn::Module {
    bool lstm;
    torch::nn::LSTM l{nullptr};
    torch::nn::GRU g{nullptr};
    torch::nn::Linear head{nullptr};
    Net(bool is_lstm, int hidden, int layers) : lstm(is_lstm) {
        if (lstm) l = register_module("rnn", torch::nn::LSTM(torch::nn::LSTMOptions(1, hidden).num_layers(layers).batch_first(true)));
        else g = register_module("rnn", torch::nn::GRU(torch::nn::GRUOptions(1, hidden).num_layers(layers).batch_first(true)));
        head = register_module("head", torch::nn::Linear(hidden, 1));
    }
    torch::Tensor forward(const torch::Tensor& x) {
        auto out = lstm ? std::get<0>(l->forward(x)) : std::get<0>(g->forward(x));
        return head->forward(out.select(1, -1));
    }
};

template <typename F>
double median_seconds(F&& body, double seconds) {
    for (int i = 0; i < 3; i++) body();
    std::vector<double> samples;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline || samples.size() < 5) {
        auto start = std::chrono::steady_clock::now();
        body();
        samples.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(samples.begin(), samples.end());
    return samples[samples.size() / 2];
}

int main(int argc, char** argv) {
    int threads = argc > 1 ? std::atoi(argv[1]) : 1;
    torch::set_num_threads(threads);
    std::printf("libtorch %d.%d.%d, threads %d\n", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH, threads);
    std::printf("| cell | config | train step (ms) | samples/s | predict one window (us) |\n|---|---|---:|---:|---:|\n");
    struct Config { const char* name; int hidden, layers, lookback, batch; };
    const Config configs[] = {{"reference 2x64 L30 B64", 64, 2, 30, 64}, {"large 2x256 L64 B256", 256, 2, 64, 256}};
    for (bool lstm : {true, false}) {
        for (const auto& c : configs) {
            torch::manual_seed(1);
            auto net = std::make_shared<Net>(lstm, c.hidden, c.layers);
            torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-3));
            auto x = torch::sin(torch::arange(c.batch * c.lookback, torch::kFloat32) * 0.1).reshape({c.batch, c.lookback, 1});
            auto y = torch::cos(torch::arange(c.batch, torch::kFloat32) * 0.3).reshape({c.batch, 1});
            double step = median_seconds([&] {
                adam.zero_grad();
                auto loss = torch::mse_loss(net->forward(x), y);
                loss.backward();
                adam.step();
            }, 4.0);
            auto window = x.slice(0, 0, 1);
            double predict = median_seconds([&] {
                torch::NoGradGuard no_grad;
                net->forward(window);
            }, 2.0);
            std::printf("| %s | %s | %.2f | %.0f | %.1f |\n", lstm ? "LSTM" : "GRU", c.name, step * 1e3, c.batch / step, predict * 1e6);
        }
    }
}
