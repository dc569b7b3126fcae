using System.Diagnostics;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.Loader;

namespace SeqForecast.Benchmarks;

/// <summary>
/// <c>probe-builds OTHER_DIR</c>: this build's managed training step against another build's, in one process, rounds
/// alternating. The other build's SeqForecast.dll (from OTHER_DIR, for example another worktree's
/// <c>benchmarks/SeqForecast.Benchmarks/bin/Release/net10.0</c>) is loaded into its own load context and driven through
/// the public API only (<c>ManagedBackend.CreateSession</c>, <c>INetworkSession.TrainStep</c>), so any build that has
/// that API can be compared; this build's own SeqForecast.dll is loaded the same way, into a second context. Both sessions stay warm, and each round of one is followed by a round of the other, so a
/// VM that drifts by several per cent between runs slows both alike; the ratio of each pair of rounds is what is
/// reported. PROBE_THREADS (default 1), PROBE_ROUND_SECONDS (0.5), PROBE_REPS (12), PROBE_CELL and PROBE_HIDDEN (64 or
/// 256) as in probe-steps. A Stopwatch probe for deciding about a change, not a figure to quote.
/// </summary>
internal static class ProbeBuilds
{
    private delegate double TrainStep(object session, float[] inputs, float[] targets, int batch, int timeSteps);

    public static void Run(string otherDirectory)
    {
        string otherPath = Path.GetFullPath(Path.Combine(otherDirectory, "SeqForecast.dll"));
        if (!File.Exists(otherPath)) throw new FileNotFoundException($"no SeqForecast.dll in {otherDirectory}", otherPath);
        var other = new BuildContext(otherPath).LoadFromAssemblyPath(otherPath);
        // This build's SeqForecast.dll goes into a load context of its own too, so that the two are loaded alike.
        string selfPath = typeof(SeqForecast.Engine.Managed.ManagedBackend).Assembly.Location;
        var self = new BuildContext(selfPath).LoadFromAssemblyPath(selfPath);
        int threads = int.Parse(Environment.GetEnvironmentVariable("PROBE_THREADS") ?? "1");
        double seconds = double.Parse(Environment.GetEnvironmentVariable("PROBE_ROUND_SECONDS") ?? "0.5", System.Globalization.CultureInfo.InvariantCulture);
        int reps = int.Parse(Environment.GetEnvironmentVariable("PROBE_REPS") ?? "12");
        Console.WriteLine($"this build: {selfPath}; other: {otherPath}; {threads} thread(s), {reps} pairs of {seconds:F1} s rounds");
        Console.WriteLine("| cell | config | other, mean ms | this, mean ms | this / other, median of pairs | pairs where this is faster |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        foreach (var cell in new[] { "Lstm", "Gru" }.Where(c => Environment.GetEnvironmentVariable("PROBE_CELL") is not { } only || only == c))
            foreach (var (name, hidden, lookback, batch) in new[] { ("2x64 L30 B64", 64, 30, 64), ("2x256 L64 B256", 256, 64, 256) }.Where(c => Environment.GetEnvironmentVariable("PROBE_HIDDEN") is not { } only || only == c.Item2.ToString()))
            {
                var inputs = new float[batch * lookback];
                var targets = new float[batch];
                for (int i = 0; i < inputs.Length; i++) inputs[i] = MathF.Sin(i * 0.1f);
                for (int i = 0; i < targets.Length; i++) targets[i] = MathF.Cos(i * 0.3f);
                var (otherSession, otherStep) = Open(other, cell, hidden, threads);
                var (selfSession, selfStep) = Open(self, cell, hidden, threads);
                try
                {
                    for (int i = 0; i < 5; i++)
                    {
                        otherStep(otherSession, inputs, targets, batch, lookback);
                        selfStep(selfSession, inputs, targets, batch, lookback);
                    }
                    var ratios = new double[reps];
                    double otherTotal = 0, selfTotal = 0;
                    for (int r = 0; r < reps; r++)
                    {
                        // Which build goes first alternates too, so neither always follows the other.
                        bool otherFirst = r % 2 == 0;
                        double first = Round(otherFirst ? otherStep : selfStep, otherFirst ? otherSession : selfSession, inputs, targets, batch, lookback, seconds);
                        double second = Round(otherFirst ? selfStep : otherStep, otherFirst ? selfSession : otherSession, inputs, targets, batch, lookback, seconds);
                        double otherMs = otherFirst ? first : second, selfMs = otherFirst ? second : first;
                        otherTotal += otherMs;
                        selfTotal += selfMs;
                        ratios[r] = selfMs / otherMs;
                    }
                    var sorted = ratios.Order().ToArray();
                    double median = reps % 2 == 1 ? sorted[reps / 2] : (sorted[reps / 2 - 1] + sorted[reps / 2]) / 2;
                    Console.WriteLine($"| {cell} | {name} | {otherTotal / reps:F2} | {selfTotal / reps:F2} | {median:F3} (from {sorted[0]:F3} to {sorted[^1]:F3}) | {ratios.Count(x => x < 1)} of {reps} |");
                }
                finally
                {
                    ((IDisposable)otherSession).Dispose();
                    ((IDisposable)selfSession).Dispose();
                }
            }
    }

    private static double Round(TrainStep step, object session, float[] inputs, float[] targets, int batch, int lookback, double seconds)
    {
        int steps = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed.TotalSeconds < seconds || steps < 2)
        {
            step(session, inputs, targets, batch, lookback);
            steps++;
        }
        return watch.Elapsed.TotalMilliseconds / steps;
    }

    /// <summary>A training session (2 layers, 1 feature, MSE, Adam) of <paramref name="assembly"/>'s managed backend, and a call of its TrainStep.</summary>
    private static (object Session, TrainStep Step) Open(Assembly assembly, string cell, int hidden, int threads)
    {
        Type Find(string name) => assembly.GetType(name, throwOnError: true)!;
        var options = Create(Find("SeqForecast.Engine.NetworkOptions"), Enum.Parse(Find("SeqForecast.Engine.CellType"), cell), 1, hidden, 2, 1);
        var setup = Create(Find("SeqForecast.Engine.TrainingSetup"), Create(Find("SeqForecast.Training.LossOptions")), Create(Find("SeqForecast.Training.AdamOptions")));
        var backend = Create(Find("SeqForecast.Engine.Managed.ManagedBackend"), threads);
        var session = backend.GetType().GetMethod("CreateSession")!.Invoke(backend, [options, setup, 1UL])!;
        var sessionType = Find("SeqForecast.Engine.INetworkSession");
        var trainStep = sessionType.GetMethod("TrainStep") ?? throw new MissingMethodException(sessionType.FullName, "TrainStep");
        var parameters = trainStep.GetParameters();

        // TrainStep takes spans, which reflection cannot pass: a small method converts the arrays and passes a default
        // for every parameter after the fourth (the loss context).
        var method = new DynamicMethod("TrainStep", typeof(double), [typeof(object), typeof(float[]), typeof(float[]), typeof(int), typeof(int)], typeof(ProbeBuilds).Module, skipVisibility: true);
        var il = method.GetILGenerator();
        var toSpan = typeof(ReadOnlySpan<float>).GetMethod("op_Implicit", [typeof(float[])])!;
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Castclass, sessionType);
        il.Emit(OpCodes.Ldarg_1);
        il.Emit(OpCodes.Call, toSpan);
        il.Emit(OpCodes.Ldarg_2);
        il.Emit(OpCodes.Call, toSpan);
        il.Emit(OpCodes.Ldarg_3);
        il.Emit(OpCodes.Ldarg_S, (byte)4);
        foreach (var extra in parameters.Skip(4))
        {
            var local = il.DeclareLocal(extra.ParameterType);
            il.Emit(OpCodes.Ldloca, local);
            il.Emit(OpCodes.Initobj, extra.ParameterType);
            il.Emit(OpCodes.Ldloc, local);
        }
        il.Emit(OpCodes.Callvirt, trainStep);
        il.Emit(OpCodes.Ret);
        return (session, method.CreateDelegate<TrainStep>());
    }

    /// <summary>An instance from the public constructor that takes these arguments first, the rest left at their defaults.</summary>
    private static object Create(Type type, params object[] arguments)
    {
        foreach (var constructor in type.GetConstructors().OrderBy(c => c.GetParameters().Length))
        {
            var parameters = constructor.GetParameters();
            if (parameters.Length < arguments.Length || parameters.Skip(arguments.Length).Any(p => !p.HasDefaultValue)) continue;
            if (!arguments.Select((a, i) => parameters[i].ParameterType.IsInstanceOfType(a)).All(x => x)) continue;
            var values = arguments.Concat(parameters.Skip(arguments.Length).Select(p => p.DefaultValue)).ToArray();
            return constructor.Invoke(values);
        }
        throw new MissingMethodException($"{type.FullName} has no public constructor for ({string.Join(", ", arguments.Select(a => a.GetType().Name))})");
    }

    /// <summary>Loads one build's SeqForecast.dll and, from its folder, what it needs that is not the runtime's.</summary>
    private sealed class BuildContext(string mainAssemblyPath) : AssemblyLoadContext(mainAssemblyPath, isCollectible: false)
    {
        private readonly AssemblyDependencyResolver _resolver = new(mainAssemblyPath);

        protected override Assembly? Load(AssemblyName name)
        {
            string? path = _resolver.ResolveAssemblyToPath(name);
            return path is null ? null : LoadFromAssemblyPath(path);
        }
    }
}
