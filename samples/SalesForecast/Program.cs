using Spectre.Console;

return SalesForecast.App.Run(args, AnsiConsole.Console, Console.Error);
