using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.LibTorch;

namespace SalesForecast;

/// <summary>Maps <c>--device</c> to a backend: cpu is the managed engine; libtorch-cpu and cuda need the native shim.</summary>
internal static class Backends
{
    public static readonly string[] Devices = ["cpu", "libtorch-cpu", "cuda"];

    /// <summary>Values of <c>--precision</c>: libtorch's modes.</summary>
    public static readonly string[] Precisions = ["float32", "tf32", "mixed"];

    /// <exception cref="DeviceUnavailableException">The device's native part is missing.</exception>
    /// <exception cref="ArgumentException">The precision does not run on the device.</exception>
    public static IBackend Resolve(string device, string precision = "float32")
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
