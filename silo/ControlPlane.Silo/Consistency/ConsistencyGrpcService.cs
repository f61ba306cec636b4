using ControlPlane.Grains.Consistency;
using ControlPlane.Grains.Fleet;
using ControlPlane.Silo.Gateway;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Consistency;

/// <summary>Replica consistency of a tier. Validates, asks the tier's consistency grain, maps back.</summary>
internal sealed class ConsistencyGrpcService(IClusterClient cluster, IOptions<ControlPlaneOptions> options) : Proto.ConsistencyService.ConsistencyServiceBase
{
    private const int MaxTables = 100;
    // schema.table, each part at most NAMEDATALEN - 1 bytes.
    private const int MaxTableName = 127;
    private readonly string _defaultEnvironment = options.Value.Environment;

    public override async Task<Proto.ConsistencyReport> CheckConsistency(Proto.CheckConsistencyRequest request, ServerCallContext context)
    {
        var tables = Tables(request.Tables);
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        try
        {
            return ConsistencyMapper.ToProto(await Grain(env, tier).Check(tables));
        }
        catch (ArgumentException e)
        {
            throw RequestValidation.Invalid($"tables: {e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal)}");
        }
        catch (InvalidOperationException e)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, e.Message));
        }
    }

    public override async Task<Proto.ConsistencyReport> GetConsistencyReport(Proto.GetConsistencyReportRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var last = await Grain(env, tier).GetLast()
            ?? throw RequestValidation.NotFound($"tier '{tier}' has not been checked yet; run cpctl consistency {tier}, or wait for the scheduled check.");
        return ConsistencyMapper.ToProto(last);
    }

    /// <summary>The requested table names: at most 100, each non-empty, printable and no longer than a qualified name can be.</summary>
    internal static IReadOnlyList<string> Tables(IReadOnlyList<string> tables)
    {
        if (tables.Count > MaxTables) throw RequestValidation.Invalid($"tables has {tables.Count} names; expected at most {MaxTables}.");
        foreach (var t in tables)
        {
            if (t.Length == 0 || t.Length > MaxTableName || t.Any(char.IsControl) || t.Any(char.IsWhiteSpace))
                throw RequestValidation.Invalid($"tables entry '{RequestValidation.Shown(t)}' is invalid; expected schema.table or table, 1 to {MaxTableName} printable characters without spaces.");
        }
        return tables.ToList();
    }

    private IConsistencyGrain Grain(string env, string tier) => cluster.GetGrain<IConsistencyGrain>(FleetKeys.Tier(env, tier));

    private async Task<(string Env, string Tier)> TierAsync(string environment, string tier)
    {
        var env = RequestValidation.Environment(environment, _defaultEnvironment);
        return await TierLookup.RequireAsync(cluster, env, RequestValidation.Name("tier", tier));
    }
}
