namespace SeqForecast.Engine;

/// <summary>One named parameter tensor inside the contiguous parameter buffer.</summary>
/// <param name="Name">PyTorch state_dict name, for example <c>rnn.weight_ih_l0</c> or <c>head.bias</c>.</param>
/// <param name="Shape">Tensor shape, row-major.</param>
/// <param name="Offset">First float of the tensor in the buffer.</param>
public sealed record ParameterInfo(string Name, IReadOnlyList<int> Shape, int Offset)
{
    /// <summary>Number of floats.</summary>
    public int Length => Shape.Aggregate(1, (a, b) => a * b);
}

/// <summary>
/// Names, shapes and offsets of every parameter of a network, in PyTorch's <c>named_parameters()</c> order for a
/// module with attributes <c>rnn</c> (torch.nn.LSTM or GRU, batch_first) and <c>head</c> (torch.nn.Linear):
/// <c>rnn.weight_ih_l{k}</c> [G·H, in], <c>rnn.weight_hh_l{k}</c> [G·H, H], <c>rnn.bias_ih_l{k}</c> [G·H],
/// <c>rnn.bias_hh_l{k}</c> [G·H] for each layer k, then <c>head.weight</c> [out, H] and <c>head.bias</c> [out],
/// with G = 4 (LSTM) or 3 (GRU).
/// </summary>
public sealed class ParameterLayout
{
    private readonly Dictionary<string, ParameterInfo> _byName;

    private ParameterLayout(IReadOnlyList<ParameterInfo> parameters)
    {
        Parameters = parameters;
        _byName = parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
        TotalLength = parameters.Sum(p => p.Length);
    }

    /// <summary>The parameters, in buffer order.</summary>
    public IReadOnlyList<ParameterInfo> Parameters { get; }

    /// <summary>Floats in the whole buffer.</summary>
    public int TotalLength { get; }

    /// <summary>The parameter named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No parameter has that name.</exception>
    public ParameterInfo this[string name] => _byName.TryGetValue(name, out var info)
        ? info
        : throw new ArgumentException($"no parameter is named '{name}'; the network has: {string.Join(", ", _byName.Keys)}", nameof(name));

    /// <summary>The layout for <paramref name="options"/>.</summary>
    public static ParameterLayout For(NetworkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int gates = options.GateCount * options.HiddenSize;
        var list = new List<ParameterInfo>();
        int offset = 0;
        void Add(string name, params int[] shape)
        {
            var info = new ParameterInfo(name, shape, offset);
            list.Add(info);
            offset += info.Length;
        }
        for (int layer = 0; layer < options.Layers; layer++)
        {
            int input = layer == 0 ? options.InputSize : options.HiddenSize;
            Add($"rnn.weight_ih_l{layer}", gates, input);
            Add($"rnn.weight_hh_l{layer}", gates, options.HiddenSize);
            Add($"rnn.bias_ih_l{layer}", gates);
            Add($"rnn.bias_hh_l{layer}", gates);
        }
        Add("head.weight", options.OutputSize, options.HiddenSize);
        Add("head.bias", options.OutputSize);
        return new ParameterLayout(list);
    }
}
