using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.LibTorch;

namespace SalesForecast;

/// <summary>Maps <c>--device</c> to a backend: cpu is the managed engine; libtorch-cpu and cuda need the native shim.</summary>
internal static class Backends
{
    public static readonly string[] Devices = ["cpu", "libtorch-cpu", "cuda"];

    /// <exception cref="DeviceUnavailableException">The device's native part is missing.</exception>
    public static IBackend Resolve(string device)
    {
        if (device == "cpu") return ManagedBackend.Default;
        if (!Devices.Contains(device))
            throw new ArgumentException($"device '{device}' is unknown; use one of: {string.Join(", ", Devices)}");
        if (!LibTorchBackend.TryLoad(out var reason))
            throw new DeviceUnavailableException($"device '{device}' is unavailable: {reason}");
        if (device == "cuda" && LibTorchBackend.CudaDeviceCount == 0)
            throw new DeviceUnavailableException($"device 'cuda' is unavailable: CUDA is not available (libtorch {LibTorchBackend.LibTorchVersion} sees no GPU); use --device cpu or libtorch-cpu");
        return device == "cuda" ? LibTorchBackend.Cuda() : LibTorchBackend.Cpu();
    }
}

/// <summary>A device was asked for whose native part is not available.</summary>
internal sealed class DeviceUnavailableException(string message) : InvalidOperationException(message);
