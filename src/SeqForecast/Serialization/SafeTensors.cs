using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace SeqForecast.Serialization;

/// <summary>One float32 tensor in a safetensors file.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="Shape">Shape, row-major.</param>
/// <param name="Data">Values, row-major.</param>
public sealed record NamedTensor(string Name, IReadOnlyList<int> Shape, float[] Data);

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
/// The reader never trusts the header: it bounds N by <see cref="MaxHeaderBytes"/> and by the file size, checks every
/// dtype, shape and offset against the data actually present, rejects overlaps, and allocates only what the file holds.
/// </remarks>
public static class SafeTensors
{
    /// <summary>Largest JSON header accepted: 16 MiB.</summary>
    public const long MaxHeaderBytes = 16L << 20;

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
    public static (IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<NamedTensor> Tensors) Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"model file '{path}' does not exist", path);
        using var stream = File.OpenRead(path);
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw new InvalidDataException($"model file '{path}' is truncated: it has {fileLength} bytes, and the header length alone needs 8");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes)
            throw new InvalidDataException($"model file '{path}' claims a {headerLength}-byte header; at most {MaxHeaderBytes} bytes are accepted (corrupt or not a model file)");
        if ((long)headerLength > fileLength - 8)
            throw new InvalidDataException($"model file '{path}' is truncated: the header claims {headerLength} bytes but only {fileLength - 8} follow");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataLength = fileLength - 8 - (long)headerLength;

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<(string Name, int[] Shape, long Begin, long End)>();
        try
        {
            using var document = JsonDocument.Parse(header);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"model file '{path}' has a header that is not a JSON object");
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    foreach (var item in property.Value.EnumerateObject())
                        metadata[item.Name] = item.Value.GetString() ?? throw new InvalidDataException($"model file '{path}' metadata '{item.Name}' is not a string");
                    continue;
                }
                entries.Add(ParseEntry(path, property, dataLength));
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"model file '{path}' has a corrupt header: {ex.Message}", ex);
        }

        var ordered = entries.OrderBy(e => e.Begin).ToArray();
        for (int i = 1; i < ordered.Length; i++)
            if (ordered[i].Begin < ordered[i - 1].End)
                throw new InvalidDataException($"model file '{path}' has overlapping tensors '{ordered[i - 1].Name}' and '{ordered[i].Name}'");

        var tensors = new List<NamedTensor>(entries.Count);
        var buffer = new byte[entries.Count == 0 ? 0 : entries.Max(e => e.End - e.Begin)];
        long dataStart = 8 + (long)headerLength;
        foreach (var (name, shape, begin, end) in entries)
        {
            int count = (int)((end - begin) / sizeof(float));
            var data = new float[count];
            stream.Position = dataStart + begin;
            stream.ReadExactly(buffer, 0, (int)(end - begin));
            for (int i = 0; i < count; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(buffer.AsSpan(i * 4, 4));
            tensors.Add(new NamedTensor(name, shape, data));
        }
        return (metadata, tensors);
    }

    private static (string Name, int[] Shape, long Begin, long End) ParseEntry(string path, JsonProperty property, long dataLength)
    {
        var value = property.Value;
        string dtype = value.GetProperty("dtype").GetString() ?? "";
        if (dtype != "F32")
            throw new InvalidDataException($"model file '{path}' tensor '{property.Name}' has dtype {dtype}; only F32 is supported");
        var shape = value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        long elements = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new InvalidDataException($"model file '{path}' tensor '{property.Name}' has a negative dimension {d}");
            elements *= d;
            if (elements > dataLength) throw new InvalidDataException($"model file '{path}' tensor '{property.Name}' has shape [{string.Join(", ", shape)}], larger than the {dataLength} data bytes present");
        }
        var offsets = value.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
        if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
            throw new InvalidDataException($"model file '{path}' tensor '{property.Name}' has data offsets [{string.Join(", ", offsets)}] outside the {dataLength} data bytes (truncated or corrupt)");
        if (offsets[1] - offsets[0] != elements * sizeof(float))
            throw new InvalidDataException($"model file '{path}' tensor '{property.Name}' spans {offsets[1] - offsets[0]} bytes but shape [{string.Join(", ", shape)}] needs {elements * sizeof(float)}");
        return (property.Name, shape, offsets[0], offsets[1]);
    }
}
