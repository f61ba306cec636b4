using System.Text.RegularExpressions;
using ControlPlane.Grains.Tenants;
using ControlPlane.Postgres.Tenants;
using ControlPlane.Silo.Gateway;
using Grpc.Core;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Tenants;

/// <summary>The personal-data catalog and anonymisation (docs/tenants.md, GDPR).</summary>
internal sealed partial class TenantGrpcService
{
    private const string IdentifierPattern = "^[a-z_][a-z0-9_]{0,62}$";

    public override Task<Proto.TenantInfo> AnonymiseTenant(Proto.TenantAnonymiseRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var tenant = TenantName(request.Tenant);
        if (request.Confirm != tenant)
            throw RequestValidation.Invalid($"confirm '{RequestValidation.Shown(request.Confirm)}' does not repeat the tenant's name; expected '{tenant}' (pseudonyms cannot be turned back).");
        return AnonymiseAsync(env, tenant, request, context);
    }

    private async Task<Proto.TenantInfo> AnonymiseAsync(string env, string tenant, Proto.TenantAnonymiseRequest request, ServerCallContext context)
    {
        var declared = await Catalog(env).List();
        var columns = declared.ToList();
        if (request.Columns.Count > 0)
        {
            columns = [];
            for (var i = 0; i < request.Columns.Count; i++)
            {
                var key = request.Columns[i];
                var column = declared.FirstOrDefault(c => c.Key == key) ?? throw RequestValidation.Invalid(
                    $"columns[{i}] '{RequestValidation.Shown(key)}' is not a declared personal-data column; expected tier:table.column among those of ListPiiColumns (declare it first).");
                if (!columns.Contains(column)) columns.Add(column);
            }
        }
        return await Call(env, tenant, g => g.Anonymise(columns, CallerIdentity.Of(context)));
    }

    public override async Task<Proto.PiiColumn> DeclarePiiColumn(Proto.PiiDeclareRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        await TierAsync(env, "tier", request.Tier);
        var table = Identifier("table", request.Table);
        var column = Identifier("column", request.Column);
        if (!PiiKinds.IsKnown(request.Kind))
            throw RequestValidation.Invalid($"kind '{RequestValidation.Shown(request.Kind)}' is not a known kind; expected one of {string.Join(", ", PiiKinds.All)}.");
        try
        {
            return PiiMapper.ToProto(await Catalog(env).Declare(new PiiColumn(request.Tier, table, column, request.Kind, CallerIdentity.Of(context), DateTimeOffset.UtcNow)));
        }
        catch (KeyNotFoundException e)
        {
            throw RequestValidation.NotFound(e.Message);
        }
        catch (ArgumentException e)
        {
            throw RequestValidation.Invalid(e.Message);
        }
        catch (InvalidOperationException e)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
        }
    }

    public override async Task<Proto.PiiListResponse> ListPiiColumns(Proto.PiiListRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        if (request.Tier.Length > 0) await TierAsync(env, "tier", request.Tier);
        var response = new Proto.PiiListResponse { Environment = env };
        response.Columns.AddRange((await Catalog(env).List()).Where(c => request.Tier.Length == 0 || c.Tier == request.Tier).Select(PiiMapper.ToProto));
        return response;
    }

    public override async Task<Proto.PiiSuggestResponse> SuggestPiiColumns(Proto.PiiSuggestRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        await TierAsync(env, "tier", request.Tier);
        var response = new Proto.PiiSuggestResponse { Environment = env };
        try
        {
            response.Suggestions.AddRange((await Catalog(env).Suggest(request.Tier)).Select(PiiMapper.ToProto));
        }
        catch (InvalidOperationException e)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
        }
        return response;
    }

    /// <summary>A table or column name as PostgreSQL folds unquoted ones: what a tenant's DDL creates.</summary>
    private static string Identifier(string field, string value)
    {
        if (!Regex.IsMatch(value, IdentifierPattern, RegexOptions.CultureInvariant))
            throw RequestValidation.Invalid($"{field} '{RequestValidation.Shown(value)}' is invalid; expected a lowercase identifier matching {IdentifierPattern}.");
        return value;
    }

    private IPiiCatalogGrain Catalog(string env) => cluster.GetGrain<IPiiCatalogGrain>(env);
}
