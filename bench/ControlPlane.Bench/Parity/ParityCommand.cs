using System.CommandLine;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Parity;

/// <summary><c>parity</c>: schema snapshot and diff+plan time for a schema of N tables, on a server given by connection string.</summary>
public static class ParityCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var connection = new Option<string>("--connection") { Description = "Npgsql connection string of a scratch server (two schemas parity_bench_a/_b are replaced)", Required = true };
        var tables = new Option<int>("--tables") { Description = "Tables per schema", DefaultValueFactory = _ => 500 };
        var rounds = new Option<int>("--rounds") { Description = "Timed rounds (after one warm-up)", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("parity", "Schema snapshot and diff time for an N-table schema (one in ten tables differs)")
        {
            connection, tables, rounds, json,
        };
        command.SetAction(async (parsed, ct) =>
        {
            await stderr.WriteLineAsync($"load average before: {MachineInfo.LoadAverage()}");
            var result = await ParityRun.RunAsync(parsed.GetValue(connection)!, parsed.GetValue(tables), parsed.GetValue(rounds), stderr, ct);
            await stderr.WriteLineAsync($"load average after: {MachineInfo.LoadAverage()}");
            await stdout.WriteLineAsync(parsed.GetValue(json) ? JsonReport.Serialize(result) : result.Render());
            return ExitCodes.Ok;
        });
        return command;
    }
}
