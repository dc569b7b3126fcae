// Device parity check: the managed engine (CPU) against libtorch on a device (cuda:0 by default, or cpu), from the
// same initial weights and batches: outputs, losses, and weights after 5 Adam steps, for LSTM and GRU with 1-3 layers;
// then a forecaster trained on the device, saved, and served by the managed engine; then the precision modes (TF32 and
// mixed on CUDA, mixed on the CPU): outputs against float32 from the same weights, training without runaway skipped
// steps, and a forecaster's holdout error against float32's.
// It needs no dotnet on the target machine when published self-contained (see docs/gpu.md). Exit code 0 = all passed.
using SeqForecast.Data;
using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.Forecasting;
using SeqForecast.LibTorch;

using SeqForecast.Training;
using SeqForecast.Windows;

var device = new LibTorchDevice(args.FirstOrDefault() ?? "cuda:0");
try
{
    Console.WriteLine($"libtorch {LibTorchBackend.LibTorchVersion}, CUDA devices {LibTorchBackend.CudaDeviceCount}, checking {device}");
    if (device.IsCuda && LibTorchBackend.CudaDeviceCount == 0) throw new LibTorchUnavailableException("CUDA is not available: libtorch sees no GPU");
}
catch (LibTorchException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 2;
}
const int Batch = 16, Time = 12, Hidden = 24, Outputs = 3;
// Tolerances: float32 on both sides (TF32 off), different kernels and summation orders.
const double OutputTolerance = 1e-4, WeightTolerance = 2e-4;
int failures = 0;

void Report(string what, double error, double tolerance)
{
    bool ok = error <= tolerance;
    if (!ok) failures++;
    Console.WriteLine($"| {what,-44} | {error,12:E2} | {tolerance,8:E0} | {(ok ? "pass" : "FAIL")} |");
}

Console.WriteLine("| check | max abs error | tolerance | result |\n|---|---:|---:|---|");
foreach (var cell in new[] { CellType.Lstm, CellType.Gru })
    foreach (var layers in new[] { 1, 2, 3 })
    {
        var network = new NetworkOptions(cell, 2, Hidden, layers, Outputs);
        var setup = new TrainingSetup(new LossOptions(), new AdamOptions { LearningRate = 0.01 });
        using var managed = new ManagedBackend().CreateSession(network, setup, 3);
        using var torch = new LibTorchBackend(device).CreateSession(network, setup, 3);
        var random = new Random(9);
        var inputs = Enumerable.Range(0, Batch * Time * 2).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        var targets = Enumerable.Range(0, Batch * Outputs).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        var a = new float[Batch * Outputs];
        var b = new float[Batch * Outputs];
        managed.Predict(inputs, Batch, Time, a);
        torch.Predict(inputs, Batch, Time, b);
        Report($"{cell} {layers}L outputs", a.Zip(b, (x, y) => Math.Abs(x - y)).Max(), OutputTolerance);
        Report($"{cell} {layers}L loss", Math.Abs(managed.EvaluateLoss(inputs, targets, Batch, Time) - torch.EvaluateLoss(inputs, targets, Batch, Time)), OutputTolerance);
        for (int step = 0; step < 5; step++)
        {
            managed.TrainStep(inputs, targets, Batch, Time);
            torch.TrainStep(inputs, targets, Batch, Time);
        }
        var wa = new float[managed.Layout.TotalLength];
        var wb = new float[wa.Length];
        managed.CopyParametersTo(wa);
        torch.CopyParametersTo(wb);
        Report($"{cell} {layers}L weights after 5 Adam", wa.Zip(wb, (x, y) => Math.Abs(x - y)).Max(), WeightTolerance);
    }

var series = Enumerable.Range(0, 4).Select(s => TimeSeries.FromValues($"s{s}", Enumerable.Range(0, 120).Select(t => 20 + 3 * s + 5 * Math.Sin(t * 0.45 + s)).ToArray())).ToArray();
var options = new RnnForecasterOptions(new WindowSpec(14, 7)) { HiddenSize = 32, Backend = new LibTorchBackend(device), Training = new TrainerOptions { Epochs = 10, Seed = 2 } };
using (var trained = new RnnForecaster(options).Fit(series))
{
    var path = Path.Combine(Path.GetTempPath(), $"device-check-{Guid.NewGuid():N}.safetensors");
    trained.Save(path);
    using var served = FittedRnnForecaster.Load(path);
    var expected = trained.Predict(series);
    var actual = served.Predict(series);
    double error = expected.Zip(actual, (e, g) => e.FirstTarget.Zip(g.FirstTarget, (x, y) => Math.Abs(x - y)).Max()).Max();
    Report($"trained on {device}, served managed", error, 1e-3);
    File.Delete(path);
}
// Precision modes. Tolerances: TF32 keeps 10 mantissa bits, float16 10, bfloat16 7, on outputs of order 1.
var modes = device.IsCuda ? new[] { LibTorchPrecision.Tf32, LibTorchPrecision.Mixed } : [LibTorchPrecision.Mixed];
foreach (var mode in modes)
{
    double outputTolerance = mode == LibTorchPrecision.Tf32 ? 5e-3 : device.IsCuda ? 2e-2 : 5e-2;
    foreach (var cell in new[] { CellType.Lstm, CellType.Gru })
    {
        const int B = 64, T = 30;
        var network = new NetworkOptions(cell, 1, 64, 2, 1);
        var setup = new TrainingSetup(new LossOptions(), new AdamOptions());
        using var full = new LibTorchBackend(device).CreateSession(network, setup, 5);
        using var low = (LibTorchSession)new LibTorchBackend(device).WithPrecision(mode).CreateSession(network, setup, 5);
        var inputs = Enumerable.Range(0, B * T).Select(i => MathF.Sin(i * 0.1f)).ToArray();
        var targets = Enumerable.Range(0, B).Select(i => MathF.Cos(i * 0.3f)).ToArray();
        var a = new float[B];
        var b = new float[B];
        full.Predict(inputs, B, T, a);
        low.Predict(inputs, B, T, b);
        Report($"{mode} {cell} outputs vs float32", a.Zip(b, (x, y) => Math.Abs(x - y)).Max(), outputTolerance);
        double fullLoss = 0, lowLoss = 0;
        for (int step = 0; step < 200; step++)
        {
            fullLoss = full.TrainStep(inputs, targets, B, T);
            lowLoss = low.TrainStep(inputs, targets, B, T);
        }
        Report($"{mode} {cell} loss after 200 steps vs float32", Math.Abs(lowLoss - fullLoss) / fullLoss, 0.1);
        Report($"{mode} {cell} skipped steps of 200", low.LossScale.SkippedSteps, 10);
    }
    double Holdout(IBackend backend)
    {
        var history = series.Select(s => s.Slice(0, 113)).ToArray();
        var fitted = new RnnForecaster(options with { Backend = backend }).Fit(history);
        try
        {
            var predictions = fitted.Predict(history);
            return predictions.Select((p, i) => p.FirstTarget.Select((v, h) => Math.Abs(v - series[i].Column(0)[113 + h])).Average()).Average();
        }
        finally
        {
            fitted.Dispose();
        }
    }
    double fullError = Holdout(new LibTorchBackend(device)), lowError = Holdout(new LibTorchBackend(device).WithPrecision(mode));
    Console.WriteLine($"| {mode} holdout MAE {lowError:F4} vs float32 {fullError:F4} | | | |");
    Report($"{mode} holdout MAE ratio - 1", Math.Abs(lowError / fullError - 1), 0.2);
}
Console.WriteLine(failures == 0 ? "all checks passed" : $"{failures} check(s) failed");
return failures == 0 ? 0 : 1;
