using Spectre.Console;

// Redirected output gets plain text: no colour or bold escape codes, and line-by-line progress instead of a live bar.
var console = Console.IsOutputRedirected
    ? AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No })
    : AnsiConsole.Console;
return SalesForecast.App.Run(args, console, Console.Error);
