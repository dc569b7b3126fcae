namespace SeqForecast.Data;

internal static class ErrorMessages
{
    /// <summary>An exception's message without ArgumentException's " (Parameter 'x')" suffix, for wrapping in another message.</summary>
    public static string Bare(Exception exception) => exception is ArgumentException { ParamName: { } name }
        ? exception.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal)
        : exception.Message;
}
