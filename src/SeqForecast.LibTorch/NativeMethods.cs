using System.Reflection;
using System.Runtime.InteropServices;

namespace SeqForecast.LibTorch;

/// <summary>Mirror of <c>sf_model_options</c> in native/seqforecast_torch.h.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeModelOptions
{
    public int Cell;
    public int InputSize;
    public int HiddenSize;
    public int Layers;
    public int OutputSize;
    public double Dropout;
    public int Loss;
    public double HuberDelta;
    public int Optimizer;
    public double LearningRate;
    public double WeightDecay;
    public double Beta1, Beta2, Epsilon;
    public double Momentum, Dampening;
    public int Nesterov;
    public double ClipNorm;
    public int Precision;
    public double LossScale;
    public double ScaleGrowth;
    public double ScaleBackoff;
    public int GrowthInterval;
    public int MultiTensorAdam;
}

/// <summary>P/Invoke declarations of the shim's C ABI (native/seqforecast_torch.h).</summary>
internal static unsafe partial class NativeMethods
{
    public const string Library = "seqforecast_torch";

    static NativeMethods() => NativeLibrary.SetDllImportResolver(typeof(NativeMethods).Assembly, Resolve);

    [LibraryImport(Library)] public static partial IntPtr sf_last_error();
    [LibraryImport(Library)] public static partial int sf_version(out int major, out int minor, out int patch);
    [LibraryImport(Library)] public static partial int sf_cuda_device_count(out int count);
    [LibraryImport(Library)] public static partial int sf_set_threads(int threads);
    [LibraryImport(Library)] public static partial int sf_manual_seed(ulong seed);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] public static partial int sf_create(in NativeModelOptions options, string device, out IntPtr model);
    [LibraryImport(Library)] public static partial void sf_free(IntPtr model);
    [LibraryImport(Library)] public static partial int sf_train_step(ModelHandle model, float* inputs, float* targets, int batch, int time, out double loss);
    [LibraryImport(Library)] public static partial int sf_windows_create(ModelHandle model, long count, int time, out IntPtr windows);
    [LibraryImport(Library)] public static partial int sf_windows_write(WindowsHandle windows, long first, float* inputs, float* targets, long count);
    [LibraryImport(Library)] public static partial void sf_windows_free(IntPtr windows);
    [LibraryImport(Library)] public static partial int sf_train_step_indexed(ModelHandle model, WindowsHandle windows, long* indices, int batch, out double loss);
    [LibraryImport(Library)] public static partial int sf_forward_train(ModelHandle model, float* inputs, int batch, int time, float* outputs);
    [LibraryImport(Library)] public static partial int sf_backward_step(ModelHandle model, float* dOutputs, ref double loss);
    [LibraryImport(Library)] public static partial int sf_evaluate(ModelHandle model, float* inputs, float* targets, int batch, int time, out double loss);
    [LibraryImport(Library)] public static partial int sf_predict(ModelHandle model, float* inputs, int batch, int time, float* outputs);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] public static partial int sf_get_parameter(ModelHandle model, string name, float* destination, long count);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] public static partial int sf_set_parameter(ModelHandle model, string name, float* source, long count);
    [LibraryImport(Library)] public static partial int sf_set_learning_rate(ModelHandle model, double learningRate);
    [LibraryImport(Library)] public static partial int sf_loss_scale(ModelHandle model, out double scale, out long skippedSteps);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] public static partial int sf_group_create(string backend, string address, int port, int rank, int worldSize, long timeoutMs, out IntPtr group);
    [LibraryImport(Library)] public static partial int sf_group_allreduce_sum(IntPtr group, double* values, int count);
    [LibraryImport(Library)] public static partial int sf_attach_group(ModelHandle model, IntPtr group);

    /// <summary>The shim's C ABI version this assembly calls (SF_ABI_VERSION in native/seqforecast_torch.h).</summary>
    public const int AbiVersion = 4;

    /// <summary>Throws <see cref="LibTorchException"/> with the shim's message when <paramref name="status"/> is not 0.</summary>
    public static void Check(int status, string operation)
    {
        if (status == 0) return;
        throw new LibTorchException($"libtorch failed in {operation}: {LastError()}");
    }

    /// <summary>The message of the calling thread's last failed call.</summary>
    public static string LastError() => Marshal.PtrToStringUTF8(sf_last_error()) ?? "unknown native error";

    /// <summary>The documented one-line build of the shim from the sources the package carries.</summary>
    public const string BuildCommand = "'dotnet build -t:BuildLibTorchShim -p:LibTorch=/path/to/libtorch' (LibTorch: the folder holding share/cmake/Torch; for pip's torch, python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')";

    /// <summary>Folders searched for libseqforecast_torch.so, in order.</summary>
    public static IReadOnlyList<string> SearchFolders()
    {
        var folders = new List<string>();
        if (Environment.GetEnvironmentVariable("SEQFORECAST_TORCH_NATIVE") is { Length: > 0 } custom) folders.Add(custom);
        folders.Add(AppContext.BaseDirectory);
        folders.Add(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native"));
        var assembly = Path.GetDirectoryName(typeof(NativeMethods).Assembly.Location);
        if (!string.IsNullOrEmpty(assembly)) folders.Add(assembly);
        return folders.Distinct().ToArray();
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Library) return IntPtr.Zero;
        foreach (var folder in SearchFolders())
        {
            var path = Path.Combine(folder, "libseqforecast_torch.so");
            if (!File.Exists(path)) continue;
            IntPtr handle;
            try
            {
                handle = NativeLibrary.Load(path);
            }
            catch (DllNotFoundException ex)
            {
                throw new LibTorchUnavailableException(
                    $"{path} was found but could not be loaded ({ex.Message.ReplaceLineEndings(" ")}). Either libtorch is missing " +
                    "(Debian: apt-get install libtorch-dev libopenblas0-pthread; elsewhere put libtorch's lib folder on LD_LIBRARY_PATH), " +
                    $"or the shim was built for another libtorch: rebuild it against yours with {BuildCommand}.", ex);
            }
            int version = 0;
            if (NativeLibrary.TryGetExport(handle, "sf_abi_version", out var export))
                ((delegate* unmanaged<int*, int>)export)(&version);
            if (version != AbiVersion)
            {
                NativeLibrary.Free(handle);
                throw new LibTorchUnavailableException(
                    $"{path} is a shim of ABI version {(version == 0 ? "1 or older" : version.ToString(System.Globalization.CultureInfo.InvariantCulture))}; " +
                    $"this SeqForecast.LibTorch needs version {AbiVersion}: rebuild the shim from this package's sources with {BuildCommand}.");
            }
            return handle;
        }
        throw new LibTorchUnavailableException(
            $"the native shim libseqforecast_torch.so was not found (looked in: {string.Join(", ", SearchFolders())}). " +
            $"Build it in your project folder with {BuildCommand} (needs cmake and g++; Debian's libtorch: apt-get install " +
            "libtorch-dev libgloo-dev libopenblas0-pthread cmake g++, found without -p:LibTorch), or set SEQFORECAST_TORCH_NATIVE to the folder that holds it.");
    }
}

/// <summary>Owns one native model; <see cref="SafeHandle.Dispose()"/> frees it deterministically.</summary>
internal sealed class ModelHandle : SafeHandle
{
    public ModelHandle() : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        NativeMethods.sf_free(handle);
        return true;
    }

    public static ModelHandle Wrap(IntPtr pointer)
    {
        var result = new ModelHandle();
        result.SetHandle(pointer);
        return result;
    }
}

/// <summary>Owns one native set of resident windows; <see cref="SafeHandle.Dispose()"/> frees its device memory.</summary>
internal sealed class WindowsHandle : SafeHandle
{
    public WindowsHandle() : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        NativeMethods.sf_windows_free(handle);
        return true;
    }

    public static WindowsHandle Wrap(IntPtr pointer)
    {
        var result = new WindowsHandle();
        result.SetHandle(pointer);
        return result;
    }
}

/// <summary>libtorch reported an error; the message carries libtorch's own text.</summary>
public class LibTorchException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public LibTorchException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}

/// <summary>The shim or libtorch is not installed, or the requested device (CUDA) is not available.</summary>
public sealed class LibTorchUnavailableException : LibTorchException
{
    /// <summary>Creates the exception.</summary>
    public LibTorchUnavailableException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
