using Spectre.Console;

// Redirected output gets plain text: no colour or bold escape codes, line-by-line progress instead of a live bar, and
// lines as wide as they need (a log file has no terminal width to wrap at).
var console = Console.IsOutputRedirected
    ? AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No })
    : AnsiConsole.Console;
if (Console.IsOutputRedirected) console.Profile.Width = 160;
return SalesForecast.App.Run(args, console, Console.Error);
