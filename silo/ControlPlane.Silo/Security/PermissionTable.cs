using System.Reflection;
using ControlPlane.Protos.V1;
using Google.Protobuf.Reflection;

namespace ControlPlane.Silo.Security;

/// <summary>One RPC's declared permission, read from its <c>(controlplane.v1.permission)</c> option.</summary>
internal sealed record MethodPermission(MethodDescriptor Method, Role Role, Scope Scope, string TenantField, bool Mutating)
{
    /// <summary>"controlplane.v1.FleetService/GetTier", as audited.</summary>
    public string FullName => $"{Method.Service.FullName}/{Method.Name}";

    /// <summary>"/controlplane.v1.FleetService/GetTier", as ServerCallContext.Method reports it.</summary>
    public string Path => "/" + FullName;
}

/// <summary>
/// Every RPC of every controlplane.v1 service with its permission, built once at start-up from the service
/// descriptors. Building fails, naming each offender, if an RPC has no permission, an unspecified role, or a
/// tenant field that does not exist: a server that cannot say who may call an RPC must not serve it.
/// </summary>
internal sealed class PermissionTable
{
    public const string Package = "controlplane.v1";

    // Health checking and reflection answer everyone: load balancers and grpcurl must work without a token.
    private static readonly string[] OpenPrefixes = ["/grpc.health.v1.", "/grpc.reflection."];

    private readonly Dictionary<string, MethodPermission> _byPath;

    private PermissionTable(Dictionary<string, MethodPermission> byPath) => _byPath = byPath;

    public IReadOnlyCollection<MethodPermission> All => _byPath.Values;

    public bool TryGet(string path, out MethodPermission permission) => _byPath.TryGetValue(path, out permission!);

    public static bool IsOpen(string path) => OpenPrefixes.Any(p => path.StartsWith(p, StringComparison.Ordinal));

    /// <summary>The table of the API this silo serves (every *Reflection.Descriptor of the protos assembly).</summary>
    public static PermissionTable ForControlPlane() => FromFiles(ControlPlaneFiles());

    public static IReadOnlyList<FileDescriptor> ControlPlaneFiles() =>
        typeof(PermissionsReflection).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(PermissionsReflection).Namespace && t.Name.EndsWith("Reflection", StringComparison.Ordinal))
            .Select(t => t.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null))
            .OfType<FileDescriptor>()
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();

    public static PermissionTable FromFiles(IEnumerable<FileDescriptor> files)
    {
        var problems = new List<string>();
        var table = new Dictionary<string, MethodPermission>(StringComparer.Ordinal);
        foreach (var method in files.Where(f => f.Package == Package).SelectMany(f => f.Services).SelectMany(s => s.Methods))
        {
            var name = $"{method.Service.FullName}/{method.Name}";
            var options = method.GetOptions();
            if (options is null || !options.HasExtension(PermissionsExtensions.Permission))
            {
                problems.Add($"{name} declares no permission; add option (controlplane.v1.permission) = {{ role: ... }} to the rpc.");
                continue;
            }
            var declared = options.GetExtension(PermissionsExtensions.Permission);
            if (declared.Role is not (Role.Viewer or Role.Operator or Role.Admin))
                problems.Add($"{name} declares role {declared.Role}; expected ROLE_VIEWER, ROLE_OPERATOR or ROLE_ADMIN.");
            if (declared.Scope == Scope.Tenant && !IsTenantField(method.InputType.FindFieldByName(declared.TenantField)))
                problems.Add($"{name} is SCOPE_TENANT with tenant_field '{declared.TenantField}', which is not a string field of {method.InputType.FullName}.");
            if (declared.Scope != Scope.Tenant && declared.TenantField.Length > 0)
                problems.Add($"{name} names tenant_field '{declared.TenantField}' but its scope is {declared.Scope}; use SCOPE_TENANT.");
            table[$"/{name}"] = new MethodPermission(method, declared.Role, declared.Scope, declared.TenantField, declared.Mutating);
        }
        if (problems.Count > 0)
            throw new InvalidOperationException("RPC permissions are incomplete:" + Environment.NewLine + string.Join(Environment.NewLine, problems));
        return new PermissionTable(table);
    }

    private static bool IsTenantField(FieldDescriptor? field) => field is { FieldType: FieldType.String };
}
