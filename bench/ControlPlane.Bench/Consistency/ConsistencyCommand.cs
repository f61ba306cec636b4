using System.CommandLine;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Consistency;

/// <summary><c>consistency</c>: rows/s of the consistency digest beside count(*) and md5(string_agg) over the same tables.</summary>
public static class ConsistencyCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var connection = new Option<string>("--connection") { Description = "Npgsql connection string of a scratch server initialised with pgbench -i -s N", Required = true };
        var tables = new Option<string>("--tables") { Description = "Tables to read", DefaultValueFactory = _ => "pgbench_accounts,pgbench_branches,pgbench_tellers,pgbench_history" };
        var rowsPerChunk = new Option<int>("--rows-per-chunk") { Description = "Rows per key-range chunk of the digest", DefaultValueFactory = _ => 100_000 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("consistency", "Consistency digest throughput (rows/s) beside SELECT count(*) and md5(string_agg(...)) over the same tables")
        {
            connection, tables, rowsPerChunk, json,
        };
        command.SetAction(async (parsed, ct) =>
        {
            await stderr.WriteLineAsync($"load average before: {MachineInfo.LoadAverage()}");
            var names = parsed.GetValue(tables)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var result = await ConsistencyRun.RunAsync(parsed.GetValue(connection)!, names, parsed.GetValue(rowsPerChunk), stderr, ct);
            await stderr.WriteLineAsync($"load average after: {MachineInfo.LoadAverage()}");
            await stdout.WriteLineAsync(parsed.GetValue(json) ? JsonReport.Serialize(result) : result.Render());
            return ExitCodes.Ok;
        });
        return command;
    }
}
