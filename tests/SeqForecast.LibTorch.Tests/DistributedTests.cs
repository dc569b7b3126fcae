using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using NUnit.Framework;
using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.LibTorch.DistributedWorker;

namespace SeqForecast.LibTorch.Tests;

/// <summary>
/// Data-parallel training over Gloo: two worker processes over loopback (launched with torchrun's variables) against
/// one process on the whole batch, and what happens when a rank fails or never starts.
/// </summary>
public class DistributedTests
{
    private static readonly string Worker = Path.Combine(AppContext.BaseDirectory, "SeqForecast.LibTorch.DistributedWorker.dll");

    [TestCase("libtorch", "mse")]
    [TestCase("libtorch", "smae")]
    [TestCase("libtorch", "mse-mixed")]
    [TestCase("libtorch", "mse-resident")]
    [TestCase("managed", "mse")]
    [TestCase("managed", "smae")]
    public void TwoRanks_GiveTheWeightsOfOneProcessTrainingOnTheWholeBatch(string engine, string loss)
    {
        // The managed engine trains over the same Gloo group (LibTorchProcessGroup): rank 0 takes one micro-batch (32
        // rows), rank 1 two (33). Resident windows are compared with one process that uploads every batch.
        const int steps = 8;
        var reference = Reference(engine);
        var (expected, expectedLosses, expectedSkipped) = Scenario.TrainSession(reference, loss == "mse-resident" ? "mse" : loss, steps);
        var untrained = Scenario.TrainSession(reference, "mse", 0).Parameters;
        var results = RunRanks(2, TimeSpan.FromMinutes(2), timeoutSeconds: 60, EngineEnvironment(engine), "session", loss, steps.ToString(), "-1");
        Assert.That(results.Select(r => r.ExitCode), Is.All.EqualTo(0), () => string.Join("\n", results.Select(r => r.Error)));
        var ranks = results.Select(r => MemoryMarshal.Cast<byte, float>(r.Output).ToArray()).ToArray();
        var losses = results[0].Losses.Select(double.Parse).ToArray();
        bool mixed = loss.EndsWith("-mixed", StringComparison.Ordinal);
        // Mixed precision on the CPU rounds the gradients flowing back through the bfloat16 products on each rank's rows, and
        // in one process on all rows: the results agree to bfloat16's rounding of the gradients, not float32's.
        double tolerance = mixed ? 1e-3 : 1e-5, lossTolerance = mixed ? 1e-3 : 1e-6;
        Assert.Multiple(() =>
        {
            Assert.That(ranks[1], Is.EqualTo(ranks[0]), "every rank holds the same weights, bit for bit");
            Assert.That(ranks[0], Has.Length.EqualTo(expected.Length));
            for (int i = 0; i < expected.Length; i++)
                Assert.That(ranks[0][i], Is.EqualTo(expected[i]).Within(tolerance), $"parameter {i}");
            for (int i = 0; i < steps; i++)
                Assert.That(losses[i], Is.EqualTo(expectedLosses[i]).Within(lossTolerance), $"loss of step {i}: the mean over both ranks' rows");
            Assert.That(ranks[0], Is.Not.EqualTo(untrained), "the steps moved the weights");
            Assert.That(results.Select(r => long.Parse(r.Skipped)), Is.All.EqualTo(expectedSkipped), "every rank skips the steps one process skips");
            Assert.That(expectedSkipped, Is.EqualTo(mixed ? 1 : 0), mixed ? "the first step overflowed and was skipped" : "float32 skips nothing");
        });
    }

    [TestCase("libtorch")]
    [TestCase("managed")]
    public void Forecaster_TrainedThroughTheGroupForecastsAsOneProcess(string engine)
    {
        var expected = Scenario.Forecast(Reference(engine));
        var results = RunRanks(2, TimeSpan.FromMinutes(3), timeoutSeconds: 60, EngineEnvironment(engine), "forecast");
        Assert.That(results.Select(r => r.ExitCode), Is.All.EqualTo(0), () => string.Join("\n", results.Select(r => r.Error)));
        var ranks = results.Select(r => MemoryMarshal.Cast<byte, double>(r.Output).ToArray()).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(ranks[1], Is.EqualTo(ranks[0]), "both ranks end with the same model");
            Assert.That(ranks[0], Has.Length.EqualTo(expected.Length));
            for (int i = 0; i < expected.Length; i++)
                Assert.That(ranks[0][i], Is.EqualTo(expected[i]).Within(1e-4 + 1e-4 * Math.Abs(expected[i])), $"forecast {i}");
        });
    }

    [TestCase("libtorch", "averaging gradients failed")]
    [TestCase("managed", "all-reduce failed")]
    public void FailedRank_EndsTheOtherWithAClearErrorWithinTheTimeout(string engine, string failure)
    {
        var watch = Stopwatch.StartNew();
        // Rank 1 exits before its fourth step of 500; rank 0 is then waiting in the gradient all-reduce.
        var results = RunRanks(2, TimeSpan.FromMinutes(2), timeoutSeconds: 30, EngineEnvironment(engine), "session", "mse", "500", "3");
        Assert.Multiple(() =>
        {
            Assert.That(results[1].ExitCode, Is.EqualTo(3), "rank 1 died as planned");
            Assert.That(results[0].ExitCode, Is.EqualTo(2), "rank 0 ended with an error instead of hanging or finishing");
            Assert.That(results[0].Error, Does.Contain("LibTorchException").And.Contain("rank 0 of 2").And.Contain(failure));
            Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(90)), "within the 30 s collective timeout (plus start-up)");
        });
    }

    [Test]
    public void ProcessGroup_JoinChecksItsOptions()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => LibTorchProcessGroup.Join(null!), Throws.ArgumentNullException);
            Assert.That(() => LibTorchProcessGroup.Join(new DistributedOptions(2, 2)), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contain("rank (2) must be in [0, 2)"));
        });
    }

    [Test]
    public void MissingRank_JoiningTimesOutWithAClearError()
    {
        var watch = Stopwatch.StartNew();
        var results = RunRanks(2, TimeSpan.FromMinutes(2), timeoutSeconds: 3, ranksToStart: [0], "session", "mse", "2", "-1");
        Assert.Multiple(() =>
        {
            Assert.That(results[0].ExitCode, Is.EqualTo(2));
            Assert.That(results[0].Error, Does.Contain("could not join the group").And.Contain("is every rank started").And.Not.Contain("frame #"));
            Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(60)));
        });
    }

    [Test]
    public void Options_FromEnvironmentNameWhatIsMissingOrWrong()
    {
        var saved = new[] { "RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "SEQFORECAST_DIST_TIMEOUT_SECONDS" }.ToDictionary(n => n, Environment.GetEnvironmentVariable);
        try
        {
            foreach (var name in saved.Keys) Environment.SetEnvironmentVariable(name, null);
            Assert.That(DistributedOptions.IsLaunched, Is.False);
            Assert.That(() => DistributedOptions.FromEnvironment(), Throws.InvalidOperationException.With.Message.Contain("RANK is not set"));
            Environment.SetEnvironmentVariable("RANK", "1");
            Environment.SetEnvironmentVariable("WORLD_SIZE", "two");
            Assert.That(() => DistributedOptions.FromEnvironment(), Throws.InvalidOperationException.With.Message.Contain("WORLD_SIZE is 'two'"));
            Environment.SetEnvironmentVariable("WORLD_SIZE", "1");
            Assert.That(() => DistributedOptions.FromEnvironment(), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contain("rank (1) must be in [0, 1)"));
            Environment.SetEnvironmentVariable("WORLD_SIZE", "4");
            Environment.SetEnvironmentVariable("MASTER_ADDR", "10.0.0.5");
            Environment.SetEnvironmentVariable("MASTER_PORT", "23456");
            var options = DistributedOptions.FromEnvironment();
            Assert.That(options, Is.EqualTo(new DistributedOptions(1, 4) { MasterAddress = "10.0.0.5", MasterPort = 23456, Timeout = TimeSpan.FromSeconds(300) }));
            Assert.That(DistributedOptions.IsLaunched, Is.True);
        }
        finally
        {
            foreach (var (name, value) in saved) Environment.SetEnvironmentVariable(name, value);
        }
    }

    [Test]
    public void Share_SplitsEveryBatchIntoContiguousCoveringParts()
    {
        foreach (var world in new[] { 1, 2, 3, 8 })
            foreach (var batch in new[] { 1, 2, 7, 64, 65 })
            {
                var shares = Enumerable.Range(0, world).Select(r => new DistributedOptions(r, world).Share(batch)).ToArray();
                Assert.That(shares[0].Start, Is.Zero);
                Assert.That(shares[^1].End, Is.EqualTo(batch));
                for (int r = 1; r < world; r++) Assert.That(shares[r].Start, Is.EqualTo(shares[r - 1].End));
                Assert.That(shares.Max(s => s.End - s.Start) - shares.Min(s => s.End - s.Start), Is.LessThanOrEqualTo(1), $"balanced for batch {batch} over {world}");
            }
        Assert.That(() => LibTorchBackend.Cpu().WithDistributed(new DistributedOptions(0, 2) { MasterPort = 0 }), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contain("master port (0)"));
    }

    private sealed record RankResult(int ExitCode, byte[] Output, string[] Losses, string Skipped, string Error);

    /// <summary>One process training on the whole batch with <paramref name="engine"/>, the ranks' reference.</summary>
    private static IBackend Reference(string engine) => engine == "managed" ? new ManagedBackend(threads: 1) : LibTorchBackend.Cpu(threads: 1);

    /// <summary>The worker's environment for <paramref name="engine"/> over the group (libtorch sessions by default).</summary>
    private static Dictionary<string, string> EngineEnvironment(string engine) => new() { ["SEQFORECAST_DIST_ENGINE"] = engine };

    private static RankResult[] RunRanks(int world, TimeSpan limit, int timeoutSeconds, Dictionary<string, string> environment, params string[] arguments) =>
        RunRanks(world, limit, timeoutSeconds, Enumerable.Range(0, world).ToArray(), environment, arguments);

    private static RankResult[] RunRanks(int world, TimeSpan limit, int timeoutSeconds, int[] ranksToStart, params string[] arguments) =>
        RunRanks(world, limit, timeoutSeconds, ranksToStart, [], arguments);

    private static RankResult[] RunRanks(int world, TimeSpan limit, int timeoutSeconds, int[] ranksToStart, Dictionary<string, string> environment, params string[] arguments)
    {
        Assert.That(File.Exists(Worker), Is.True, $"the worker is built beside the tests: {Worker}");
        int port = FreePort();
        var folder = Directory.CreateTempSubdirectory("seqforecast-ddp-").FullName;
        var processes = new List<(int Rank, Process Process, string Output)>();
        try
        {
            foreach (var rank in ranksToStart)
            {
                var output = Path.Combine(folder, $"rank{rank}.bin");
                var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
                start.ArgumentList.Add(Worker);
                foreach (var a in arguments) start.ArgumentList.Add(a);
                start.ArgumentList.Add(output);
                start.Environment["RANK"] = rank.ToString();
                start.Environment["WORLD_SIZE"] = world.ToString();
                start.Environment["MASTER_ADDR"] = "127.0.0.1";
                start.Environment["MASTER_PORT"] = port.ToString();
                start.Environment["SEQFORECAST_DIST_TIMEOUT_SECONDS"] = timeoutSeconds.ToString();
                foreach (var (name, value) in environment) start.Environment[name] = value;
                var process = Process.Start(start)!;
                process.OutputDataReceived += (_, _) => { };
                process.ErrorDataReceived += (_, _) => { };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                processes.Add((rank, process, output));
            }
            var deadline = DateTime.UtcNow + limit;
            foreach (var (rank, process, _) in processes)
                if (!process.WaitForExit(Math.Max(1, (int)(deadline - DateTime.UtcNow).TotalMilliseconds)))
                    Assert.Fail($"rank {rank} did not finish within {limit}");
            static T Read<T>(string path, Func<string, T> read, T missing) => File.Exists(path) ? read(path) : missing;
            return processes.Select(p => new RankResult(p.Process.ExitCode, Read(p.Output, File.ReadAllBytes, []),
                Read(p.Output + ".losses", File.ReadAllLines, []), Read(p.Output + ".skipped", File.ReadAllText, ""), Read(p.Output + ".error", File.ReadAllText, ""))).ToArray();
        }
        finally
        {
            foreach (var (_, process, _) in processes)
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
                process.Dispose();
            }
            Directory.Delete(folder, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
