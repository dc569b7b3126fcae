using System.Globalization;
using System.Runtime.InteropServices;
using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.LibTorch;
using SeqForecast.LibTorch.DistributedWorker;

// One rank: reads torchrun's variables (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, SEQFORECAST_DIST_TIMEOUT_SECONDS),
// runs a scenario and writes its result to the file named by the last argument. SEQFORECAST_DIST_ENGINE picks the
// engine: libtorch (default) trains libtorch sessions over the group, managed trains the managed engine over it
// (ManagedBackend.WithProcessGroup with a LibTorchProcessGroup). SEQFORECAST_DIST_DEVICE picks libtorch's device
// (default cpu; cuda:0 runs every rank on one GPU, as benchmarks/gpu/run.sh does).
//   session <mse|smae|mse-mixed|mse-resident> <steps> <die-at-step|-1> <out>   weights (float32) after the steps, losses and skipped
//                                                       steps beside them; rank die-at exits (code 3)
//   forecast <out>                                      forecasts (float64) of a forecaster fitted through the group
// A failure writes the message to <out>.error and exits with code 2.
var output = args[^1];
try
{
    var distributed = DistributedOptions.FromEnvironment();
    var device = Environment.GetEnvironmentVariable("SEQFORECAST_DIST_DEVICE") is { Length: > 0 } name ? new LibTorchDevice(name) : LibTorchDevice.Cpu;
    IBackend backend = Environment.GetEnvironmentVariable("SEQFORECAST_DIST_ENGINE") switch
    {
        null or "" or "libtorch" => new LibTorchBackend(device, threads: 1).WithDistributed(distributed),
        "managed" => new ManagedBackend(threads: 1).WithProcessGroup(LibTorchProcessGroup.Join(distributed)),
        var other => throw new ArgumentException($"SEQFORECAST_DIST_ENGINE is '{other}'; it must be libtorch or managed"),
    };
    var rank = distributed.Rank;
    switch (args[0])
    {
        case "session":
            int dieAt = int.Parse(args[3], CultureInfo.InvariantCulture);
            var (parameters, losses, skipped) = Scenario.TrainSession(backend, args[1], int.Parse(args[2], CultureInfo.InvariantCulture), rank == 1 ? dieAt : -1);
            File.WriteAllBytes(output, MemoryMarshal.AsBytes(parameters.AsSpan()).ToArray());
            File.WriteAllLines(output + ".losses", losses.Select(l => l.ToString("R", CultureInfo.InvariantCulture)));
            File.WriteAllText(output + ".skipped", skipped.ToString(CultureInfo.InvariantCulture));
            break;
        case "forecast":
            File.WriteAllBytes(output, MemoryMarshal.AsBytes(Scenario.Forecast(backend).AsSpan()).ToArray());
            break;
        default:
            throw new ArgumentException($"unknown scenario '{args[0]}'");
    }
    return 0;
}
catch (Exception ex)
{
    File.WriteAllText(output + ".error", ex.GetType().Name + ": " + ex.Message);
    return 2;
}
