using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.LibTorch;

namespace SalesForecast;

/// <summary>
/// Maps <c>--device</c> to a backend: cpu is the managed engine; libtorch-cpu and cuda need the native shim. Launched
/// as a rank of a group (torchrun's variables: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), the training jobs train
/// over a Gloo process group, which needs the shim for every device.
/// </summary>
internal static class Backends
{
    public static readonly string[] Devices = ["cpu", "libtorch-cpu", "cuda"];

    /// <summary>Values of <c>--precision</c>: libtorch's modes.</summary>
    public static readonly string[] Precisions = ["float32", "tf32", "mixed"];

    /// <summary>
    /// The backend of <paramref name="device"/> and <paramref name="precision"/>; with <paramref name="train"/>, over the
    /// process group the launcher's variables name, if any (joining it waits for every rank).
    /// </summary>
    /// <exception cref="DeviceUnavailableException">The device's native part, or the shim a group needs, is missing.</exception>
    /// <exception cref="ArgumentException">The precision does not run on the device.</exception>
    /// <exception cref="InvalidOperationException">A launcher variable is missing or malformed, or the group could not be joined.</exception>
    public static IBackend Resolve(string device, string precision = "float32", bool train = false)
    {
        var backend = Single(device, precision);
        if (!train || !DistributedOptions.IsLaunched) return backend;
        var group = DistributedOptions.FromEnvironment();
        if (backend is LibTorchBackend torch) return torch.WithDistributed(group);
        if (!LibTorchBackend.TryLoad(out var reason))
            throw new DeviceUnavailableException($"data-parallel training (WORLD_SIZE is set) needs the libtorch shim's process groups, even for the managed engine: {reason}");
        return ((ManagedBackend)backend).WithProcessGroup(LibTorchProcessGroup.Join(group));
    }

    /// <summary>This process's rank in the group <paramref name="backend"/> trains over, and the group's size (0 of 1 without one).</summary>
    public static (int Rank, int WorldSize) Rank(IBackend backend) => backend switch
    {
        ManagedBackend { ProcessGroup: { } group } => (group.Rank, group.WorldSize),
        LibTorchBackend { Distributed: { } group } => (group.Rank, group.WorldSize),
        _ => (0, 1),
    };

    private static IBackend Single(string device, string precision)
    {
        if (!Precisions.Contains(precision))
            throw new ArgumentException($"precision '{precision}' is unknown; use one of: {string.Join(", ", Precisions)}");
        if (device == "cpu")
            return precision == "float32" ? ManagedBackend.Default
                : throw new ArgumentException($"--precision {precision} is a libtorch mode; the managed engine (--device cpu) computes in float32: use --device libtorch-cpu (mixed) or cuda (tf32, mixed)");
        if (precision == "tf32" && device != "cuda")
            throw new ArgumentException($"--precision tf32 runs on CUDA tensor cores only; --device {device} computes in float32 (use mixed or float32)");
        if (!Devices.Contains(device))
            throw new ArgumentException($"device '{device}' is unknown; use one of: {string.Join(", ", Devices)}");
        if (!LibTorchBackend.TryLoad(out var reason))
            throw new DeviceUnavailableException($"device '{device}' is unavailable: {reason}");
        if (device == "cuda" && LibTorchBackend.CudaDeviceCount == 0)
            throw new DeviceUnavailableException($"device 'cuda' is unavailable: CUDA is not available (libtorch {LibTorchBackend.LibTorchVersion} sees no GPU); use --device cpu or libtorch-cpu");
        var backend = device == "cuda" ? LibTorchBackend.Cuda() : LibTorchBackend.Cpu();
        return precision switch
        {
            "tf32" => backend.WithPrecision(LibTorchPrecision.Tf32),
            "mixed" => backend.WithPrecision(LibTorchPrecision.Mixed),
            _ => backend,
        };
    }
}

/// <summary>A device was asked for whose native part is not available.</summary>
internal sealed class DeviceUnavailableException(string message) : InvalidOperationException(message);
