using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;

namespace SeqForecast.Serialization;

/// <summary>One float32 tensor in a safetensors file.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="Shape">Shape, row-major.</param>
/// <param name="Data">Values, row-major.</param>
internal sealed record NamedTensor(string Name, IReadOnlyList<int> Shape, float[] Data);

/// <summary>A parsed safetensors file: string metadata, float32 tensors, and the SHA-256 of its data region.</summary>
internal sealed record SafeTensorsContent(IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<NamedTensor> Tensors, string DataSha256);

/// <summary>
/// Reads and writes the safetensors layout (float32 only), as the Python <c>safetensors</c> package does.
/// </summary>
/// <remarks>
/// <code>
/// // *** Binary format ***
/// // u64 little-endian   N: length of the JSON header in bytes
/// // N bytes             UTF-8 JSON: { "__metadata__": { string: string }, name: { "dtype": "F32", "shape": [..],
/// //                     "data_offsets": [begin, end] }, ... }, padded with spaces to a multiple of 8
/// // rest of the file    tensor data, float32 little-endian; offsets are relative to the start of this region
/// </code>
/// The reader never trusts the header: it bounds N by <see cref="MaxHeaderBytes"/> and by the data present, checks
/// every field's type, every dtype, shape and offset against the data actually present, rejects overlaps and gaps
/// past the end, and allocates only what the file holds. Every problem is an <see cref="InvalidDataException"/>.
/// </remarks>
internal static class SafeTensors
{
    /// <summary>Largest JSON header accepted: 16 MiB.</summary>
    public const long MaxHeaderBytes = 16L << 20;

    /// <summary>Largest data region accepted: 2 GiB − 1.</summary>
    public const long MaxDataBytes = int.MaxValue;

    /// <summary>Most tensors accepted.</summary>
    public const int MaxTensors = 100_000;

    /// <summary>SHA-256 of the tensors' bytes as they are written (in order), lower-case hex.</summary>
    public static string DataSha256(IReadOnlyList<NamedTensor> tensors)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> scratch = stackalloc byte[4];
        foreach (var tensor in tensors)
        {
            if (BitConverter.IsLittleEndian) hash.AppendData(MemoryMarshal.AsBytes(tensor.Data.AsSpan()));
            else
                foreach (var v in tensor.Data)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(scratch, v);
                    hash.AppendData(scratch);
                }
        }
        return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
    }

    /// <summary>Writes tensors and string metadata to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, IReadOnlyList<NamedTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(metadata);
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("__metadata__");
            foreach (var (key, value) in metadata) writer.WriteString(key, value);
            writer.WriteEndObject();
            long offset = 0;
            foreach (var tensor in tensors)
            {
                long bytes = (long)tensor.Data.Length * sizeof(float);
                writer.WriteStartObject(tensor.Name);
                writer.WriteString("dtype", "F32");
                writer.WriteStartArray("shape");
                foreach (var d in tensor.Shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + bytes);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += bytes;
            }
            writer.WriteEndObject();
        }
        int padding = (int)((8 - json.Length % 8) % 8);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)(json.Length + padding));
        stream.Write(length);
        json.Position = 0;
        json.CopyTo(stream);
        for (int i = 0; i < padding; i++) stream.WriteByte((byte)' ');
        Span<byte> scratch = stackalloc byte[4];
        foreach (var tensor in tensors)
        {
            if (BitConverter.IsLittleEndian)
            {
                stream.Write(MemoryMarshal.AsBytes(tensor.Data.AsSpan()));
                continue;
            }
            foreach (var v in tensor.Data)
            {
                BinaryPrimitives.WriteSingleLittleEndian(scratch, v);
                stream.Write(scratch);
            }
        }
    }

    /// <summary>Reads every tensor and the metadata of the file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is truncated, corrupt, has an oversized or invalid header, or holds a tensor that is not float32.</exception>
    public static SafeTensorsContent Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"model file '{path}' does not exist", path);
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads a safetensors stream; <paramref name="name"/> names it in errors. A stream that cannot seek is read to its end first (at most 2 GiB).</summary>
    /// <exception cref="InvalidDataException">The content is truncated, corrupt or too large.</exception>
    public static SafeTensorsContent Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek) return ReadBuffered(stream, name);
        long streamLength = stream.Length - stream.Position;
        if (streamLength < 8)
            throw new InvalidDataException($"model file '{name}' is truncated: it has {streamLength} bytes, and the header length alone needs 8");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes)
            throw new InvalidDataException($"model file '{name}' claims a {headerLength}-byte header; at most {MaxHeaderBytes} bytes are accepted (corrupt or not a model file)");
        if ((long)headerLength > streamLength - 8)
            throw new InvalidDataException($"model file '{name}' is truncated: the header claims {headerLength} bytes but only {streamLength - 8} follow");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataLength = streamLength - 8 - (long)headerLength;
        if (dataLength > MaxDataBytes)
            throw new InvalidDataException($"model file '{name}' holds {dataLength} bytes of tensor data; at most {MaxDataBytes} are accepted");
        var (metadata, entries) = ParseHeader(header, name, dataLength);
        var data = new byte[dataLength];
        stream.ReadExactly(data);
        return Build(metadata, entries, data, name);
    }

    private static SafeTensorsContent ReadBuffered(Stream stream, string name)
    {
        using var copy = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            if (copy.Length + read > MaxDataBytes)
                throw new InvalidDataException($"model stream '{name}' is longer than {MaxDataBytes} bytes; too large for a model file");
            copy.Write(buffer, 0, read);
        }
        copy.Position = 0;
        return Read(copy, name);
    }

    private static (Dictionary<string, string> Metadata, List<(string Name, int[] Shape, long Begin, long End)> Entries) ParseHeader(byte[] header, string name, long dataLength)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<(string Name, int[] Shape, long Begin, long End)>();
        try
        {
            using var document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"model file '{name}' has a header that is not a JSON object");
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name))
                    throw new InvalidDataException($"model file '{name}' names '{property.Name}' twice in its header");
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw new InvalidDataException($"model file '{name}' has a '__metadata__' entry that is not an object");
                    foreach (var item in property.Value.EnumerateObject())
                        metadata[item.Name] = item.Value.ValueKind == JsonValueKind.String ? item.Value.GetString()! : throw new InvalidDataException($"model file '{name}' metadata '{item.Name}' is not a string");
                    continue;
                }
                if (entries.Count >= MaxTensors)
                    throw new InvalidDataException($"model file '{name}' has more than {MaxTensors} tensors");
                entries.Add(ParseEntry(name, property, dataLength));
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new InvalidDataException($"model file '{name}' has a corrupt header: {ex.Message}", ex);
        }
        var ordered = entries.OrderBy(e => e.Begin).ToArray();
        for (int i = 1; i < ordered.Length; i++)
            if (ordered[i].Begin < ordered[i - 1].End)
                throw new InvalidDataException($"model file '{name}' has overlapping tensors '{ordered[i - 1].Name}' and '{ordered[i].Name}'");
        return (metadata, entries);
    }

    private static SafeTensorsContent Build(Dictionary<string, string> metadata, List<(string Name, int[] Shape, long Begin, long End)> entries, byte[] data, string name)
    {
        var tensors = new List<NamedTensor>(entries.Count);
        foreach (var (tensorName, shape, begin, end) in entries.OrderBy(e => e.Begin))
        {
            int count = (int)((end - begin) / sizeof(float));
            var values = new float[count];
            var bytes = data.AsSpan((int)begin, (int)(end - begin));
            for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * 4, 4));
            tensors.Add(new NamedTensor(tensorName, shape, values));
        }
        return new SafeTensorsContent(metadata, tensors, Convert.ToHexString(SHA256.HashData(data)).ToLowerInvariant());
    }

    private static (string Name, int[] Shape, long Begin, long End) ParseEntry(string path, JsonProperty property, long dataLength)
    {
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"model file '{path}' tensor '{property.Name}' is not an object");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"model file '{path}' tensor '{property.Name}' has no 'dtype' string");
        string dtype = dtypeElement.GetString()!;
        if (dtype != "F32")
            throw new InvalidDataException($"model file '{path}' tensor '{property.Name}' has dtype {dtype}; only F32 is supported");
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array || shapeElement.GetArrayLength() > 8)
            throw new InvalidDataException($"model file '{path}' tensor '{property.Name}' has no 'shape' array of at most 8 dimensions");
        var shape = new int[shapeElement.GetArrayLength()];
        long elements = 1;
        int d = 0;
        foreach (var dimension in shapeElement.EnumerateArray())
        {
            if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetInt32(out var size) || size < 0)
                throw new InvalidDataException($"model file '{path}' tensor '{property.Name}' has a shape entry that is not a non-negative 32-bit integer");
            shape[d++] = size;
            elements *= size;
            if (elements * sizeof(float) > dataLength)
                throw new InvalidDataException($"model file '{path}' tensor '{property.Name}' has shape [{string.Join(", ", shape[..d])}…], larger than the {dataLength} data bytes present");
        }
        if (!value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
            throw new InvalidDataException($"model file '{path}' tensor '{property.Name}' has no 'data_offsets' pair");
        var offsets = new long[2];
        int o = 0;
        foreach (var item in offsetsElement.EnumerateArray())
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out offsets[o++]))
                throw new InvalidDataException($"model file '{path}' tensor '{property.Name}' has a data offset that is not an integer");
        if (offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
            throw new InvalidDataException($"model file '{path}' tensor '{property.Name}' has data offsets [{string.Join(", ", offsets)}] outside the {dataLength} data bytes (truncated or corrupt)");
        if (offsets[1] - offsets[0] != elements * sizeof(float))
            throw new InvalidDataException($"model file '{path}' tensor '{property.Name}' spans {offsets[1] - offsets[0]} bytes but shape [{string.Join(", ", shape)}] needs {elements * sizeof(float)}");
        return (property.Name, shape, offsets[0], offsets[1]);
    }
}
