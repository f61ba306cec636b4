using ControlPlane.Protos.V1;
using ControlPlane.Silo.Security;
using Xunit;

namespace ControlPlane.Tests.Security;

public sealed class AuthorizerTests
{
    private static readonly PermissionTable Table = PermissionTable.ForControlPlane();

    private static MethodPermission Get(string path) => Table.TryGet(path, out var p) ? p : throw new KeyNotFoundException(path);

    private static Principal Token(Role role, params string[] tenants) => new("t", Principal.TokenKind, role, tenants, "0123456789abcdef");

    // A tenant RPC as a later issue will declare one: the scope check reads the field the declaration names.
    private static MethodPermission TenantRpc() => Get("/controlplane.v1.SecurityService/CreateToken") with
    {
        Role = Role.Viewer, Scope = Scope.Tenant, TenantField = "tenants",
    };

    [Theory]
    [InlineData(Role.Viewer, Role.Viewer, true)]
    [InlineData(Role.Operator, Role.Viewer, true)]
    [InlineData(Role.Admin, Role.Operator, true)]
    [InlineData(Role.Viewer, Role.Operator, false)]
    [InlineData(Role.Operator, Role.Admin, false)]
    [InlineData(Role.Unspecified, Role.Viewer, false)]
    [InlineData(Role.Admin, Role.Unspecified, false)]
    public void Roles_are_ordered_viewer_operator_admin(Role held, Role required, bool satisfied) =>
        Assert.Equal(satisfied, Roles.Satisfies(held, required));

    [Fact]
    public void A_viewer_may_query_but_not_manage_tokens()
    {
        Assert.True(Authorizer.Decide(Token(Role.Viewer), Get("/controlplane.v1.FleetService/GetTier"), new GetTierRequest()).Allowed);
        var denied = Authorizer.Decide(Token(Role.Viewer), Get("/controlplane.v1.SecurityService/CreateToken"), new CreateTokenRequest());
        Assert.False(denied.Allowed);
        Assert.Contains("needs role admin", denied.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tenant_scoped_token_may_not_read_fleet_wide_state_even_as_admin()
    {
        var decision = Authorizer.Decide(Token(Role.Admin, "acme"), Get("/controlplane.v1.FleetService/ListTiers"), new ListTiersRequest());
        Assert.False(decision.Allowed);
        Assert.Contains("whole fleet", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tenant_scoped_token_may_ask_who_it_is()
    {
        Assert.True(Authorizer.Decide(Token(Role.Viewer, "acme"), Get("/controlplane.v1.SecurityService/WhoAmI"), new WhoAmIRequest()).Allowed);
    }

    [Fact]
    public void A_tenant_rpc_is_allowed_only_for_tenants_in_scope()
    {
        var scoped = Token(Role.Viewer, "acme", "initech");
        Assert.True(Authorizer.Decide(scoped, TenantRpc(), new CreateTokenRequest { Tenants = { "acme" } }).Allowed);
        Assert.True(Authorizer.Decide(scoped, TenantRpc(), new CreateTokenRequest { Tenants = { "acme", "initech" } }).Allowed);
        var outside = Authorizer.Decide(scoped, TenantRpc(), new CreateTokenRequest { Tenants = { "acme", "globex" } });
        Assert.False(outside.Allowed);
        Assert.Contains("'globex'", outside.Reason, StringComparison.Ordinal);
        Assert.False(Authorizer.Decide(scoped, TenantRpc(), new CreateTokenRequest()).Allowed);
        Assert.True(Authorizer.Decide(Token(Role.Viewer), TenantRpc(), new CreateTokenRequest { Tenants = { "globex" } }).Allowed);
    }

    [Fact]
    public void Health_and_reflection_are_open_and_nothing_else_is()
    {
        Assert.True(PermissionTable.IsOpen("/grpc.health.v1.Health/Check"));
        Assert.True(PermissionTable.IsOpen("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"));
        Assert.False(PermissionTable.IsOpen("/controlplane.v1.FleetService/ListTiers"));
        Assert.False(Table.TryGet("/controlplane.v1.FleetService/Nope", out _));
    }

    [Fact]
    public void Every_rpc_of_the_api_is_in_the_table()
    {
        var rpcs = PermissionTable.ControlPlaneFiles().SelectMany(f => f.Services).SelectMany(s => s.Methods).Count();
        Assert.Equal(rpcs, Table.All.Count);
        Assert.All(Table.All, p => Assert.NotEqual(Role.Unspecified, p.Role));
    }
}
