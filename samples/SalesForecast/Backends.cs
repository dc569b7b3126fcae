using SeqForecast.Engine;
using SeqForecast.Engine.Managed;

namespace SalesForecast;

/// <summary>Maps <c>--device</c> to a backend.</summary>
internal static class Backends
{
    public static readonly string[] Devices = ["cpu", "libtorch-cpu", "cuda"];

    /// <exception cref="DeviceUnavailableException">The device's native part is missing.</exception>
    public static IBackend Resolve(string device) => device switch
    {
        "cpu" => ManagedBackend.Default,
        "libtorch-cpu" or "cuda" => throw new DeviceUnavailableException(
            $"device '{device}' needs the SeqForecast.LibTorch backend and its native library libseqforecast_torch.so, which this build does not include; use --device cpu"),
        _ => throw new ArgumentException($"device '{device}' is unknown; use one of: {string.Join(", ", Devices)}"),
    };
}

/// <summary>A device was asked for whose native part is not available.</summary>
internal sealed class DeviceUnavailableException(string message) : InvalidOperationException(message);
