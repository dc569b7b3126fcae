using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using SeqForecast.Data;
using SeqForecast.Engine;
using SeqForecast.Forecasting;
using SeqForecast.Serialization;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.Tests.Serialization;

public class ModelFileTests
{
    private string _folder = "";

    [SetUp]
    public void CreateFolder() => Directory.CreateDirectory(_folder = Path.Combine(Path.GetTempPath(), "seqforecast-tests", Guid.NewGuid().ToString("N")));

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    private static TimeSeries Wave(string id, double level) => TimeSeries.FromValues(id, Enumerable.Range(0, 60).Select(t => level + 5 * Math.Sin(t)).ToArray());

    private static FittedRnnForecaster Train(CellType cell = CellType.Lstm) => new RnnForecaster(new RnnForecasterOptions(new WindowSpec(10, 3))
    {
        Cell = cell, HiddenSize = 8, Layers = 2,
        Training = new TrainerOptions { Epochs = 3, BatchSize = 8 },
    }).Fit([Wave("a", 10), Wave("b", 100)]);

    [TestCase(CellType.Lstm)]
    [TestCase(CellType.Gru)]
    public void SaveLoad_RoundTripPredictsTheSameNumbers(CellType cell)
    {
        using var fitted = Train(cell);
        var path = Path.Combine(_folder, "model.sfm");
        fitted.Save(path);
        using var loaded = FittedRnnForecaster.Load(path);
        var series = new[] { Wave("a", 10), Wave("b", 100) };
        var before = fitted.Predict(series);
        var after = loaded.Predict(series);
        Assert.Multiple(() =>
        {
            for (int s = 0; s < 2; s++) Assert.That(after[s].FirstTarget, Is.EqualTo(before[s].FirstTarget));
            Assert.That(loaded.Info.Network, Is.EqualTo(fitted.Info.Network));
            Assert.That(loaded.Info.Window, Is.EqualTo(fitted.Info.Window));
            Assert.That(loaded.Info.FeatureNames, Is.EqualTo(fitted.Info.FeatureNames));
            Assert.That(Directory.GetFiles(_folder), Is.EqualTo(new[] { path }), "no temporary file is left behind");
        });
    }

    [Test]
    public void Load_PyTorchTrainedSafetensorsPredictsPyTorchNumbers()
    {
        var expected = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("pytorch_gru_expected.json"))).RootElement;
        using var loaded = FittedRnnForecaster.Load(TestPaths.Fixture("pytorch_gru.safetensors"));
        foreach (var id in new[] { "a", "b" })
        {
            var values = expected.GetProperty("series").GetProperty(id).EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var want = expected.GetProperty("forecast").GetProperty(id).EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var got = loaded.Predict(TimeSeries.FromValues(id, values)).FirstTarget;
            Assert.That(got, Is.EqualTo(want).Within(1e-4 * 100), $"series {id}");
        }
    }

    [Test]
    public void Load_TruncatedFileIsInvalidData()
    {
        using var fitted = Train();
        var path = Path.Combine(_folder, "m.sfm");
        fitted.Save(path);
        var bytes = File.ReadAllBytes(path);
        foreach (var length in new[] { 0, 5, 20, bytes.Length - 1 })
        {
            File.WriteAllBytes(path, bytes[..length]);
            var ex = Assert.Throws<InvalidDataException>(() => FittedRnnForecaster.Load(path), $"length {length}");
            Assert.That(ex!.Message, Does.Contain("truncated").Or.Contain("corrupt").Or.Contain("outside"), $"length {length}");
        }
    }

    [Test]
    public void Load_OversizedHeaderClaimIsRejectedWithoutAllocating()
    {
        var path = Path.Combine(_folder, "huge.sfm");
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue / 2);
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<InvalidDataException>(() => FittedRnnForecaster.Load(path));
        Assert.That(ex!.Message, Does.Contain("header; at most 16777216 bytes are accepted"));
    }

    [Test]
    public void Load_CorruptJsonIsInvalidData()
    {
        var path = Path.Combine(_folder, "bad.sfm");
        var header = Encoding.UTF8.GetBytes("{\"__metadata__\": {\"format\": ");
        var bytes = new byte[8 + header.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<InvalidDataException>(() => FittedRnnForecaster.Load(path));
        Assert.That(ex!.Message, Does.Contain("corrupt header"));
    }

    private static void Rewrite(string path, Func<JsonObjectEditor, string> edit)
    {
        var bytes = File.ReadAllBytes(path);
        int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var json = Encoding.UTF8.GetString(bytes, 8, length).TrimEnd();
        var edited = Encoding.UTF8.GetBytes(edit(new JsonObjectEditor(json)));
        var result = new byte[8 + edited.Length + bytes.Length - 8 - length];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)edited.Length);
        edited.CopyTo(result, 8);
        bytes.AsSpan(8 + length).CopyTo(result.AsSpan(8 + edited.Length));
        File.WriteAllBytes(path, result);
    }

    public sealed class JsonObjectEditor(string json)
    {
        public string Replace(string from, string to) => json.Contains(from) ? json.Replace(from, to) : throw new InvalidOperationException($"'{from}' not in header");
    }

    [TestCase("\"format_version\":\"2\"", "\"format_version\":\"9\"", "format version 9; this SeqForecast reads up to version 2")]
    [TestCase("\"format\":\"seqforecast-model\"", "\"format\":\"other\"", "is not a SeqForecast model")]
    [TestCase("\"dtype\":\"F32\"", "\"dtype\":\"F16\"", "only F32 is supported")]
    [TestCase("\\u0022HiddenSize\\u0022:8", "\\u0022HiddenSize\\u0022:9", "has shape")]
    public void Load_IncompatibleFileNamesTheProblem(string from, string to, string message)
    {
        using var fitted = Train();
        var path = Path.Combine(_folder, "m.sfm");
        fitted.Save(path);
        Rewrite(path, e => e.Replace(from, to));
        var ex = Assert.Throws<InvalidDataException>(() => FittedRnnForecaster.Load(path));
        Assert.That(ex!.Message, Does.Contain(message).And.Contain(path));
    }

    [Test]
    public void Load_MissingFileIsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => FittedRnnForecaster.Load(Path.Combine(_folder, "none.sfm")));
    }

    [Test]
    public void Save_IntoMissingFolderFailsWithoutPartialFile()
    {
        using var fitted = Train();
        Assert.Throws<DirectoryNotFoundException>(() => fitted.Save(Path.Combine(_folder, "no", "m.sfm")));
        Assert.That(Directory.GetFileSystemEntries(_folder), Is.Empty);
    }
}
