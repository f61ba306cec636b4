using System.Text.Json;
using System.Text.Json.Serialization;
using ControlPlane.Grains.Fleet;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Board;

/// <summary>
/// The board's HTTP surface: the page and its assets (public: they hold no data), and the JSON and event-stream
/// endpoints the page reads (bearer token required). Arguments are checked (400 naming the parameter, the value
/// and what was expected); a failure answers JSON with a message, never a stack trace.
/// </summary>
internal static class BoardEndpoints
{
    // Served as application/json (never inlined in HTML), so messages keep their quotes readable for curl users.
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    // No inline script or style, nothing from another origin: a token in sessionStorage is only as safe as the page.
    private const string Policy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly string[] EnvironmentOnly = ["environment"];

    public static void Map(WebApplication app)
    {
        var board = app.MapGroup("/board");
        board.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            // Only the board's own listener answers: the metrics port stays /metrics, the gRPC port gRPC.
            if (http.Connection.LocalPort != http.RequestServices.GetRequiredService<BoardEndpoint>().Port) return Results.NotFound();
            var headers = http.Response.Headers;
            headers.ContentSecurityPolicy = Policy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers.CacheControl = "no-store";
            try
            {
                return await next(context);
            }
            catch (Exception ex) when (!http.Response.HasStarted)
            {
                return Failure(http, ex);
            }
        });

        board.MapGet("/", (HttpContext http) => Asset(http, "index.html"));
        board.MapGet("/assets/{name}", (HttpContext http, string name) => Asset(http, name));
        board.MapGet("/api/session", Handler(async http =>
        {
            Query(http, []);
            var (principal, _) = await Access(http).AdmitAsync(http);
            var env = http.RequestServices.GetRequiredService<IOptions<ControlPlaneOptions>>().Value.Environment;
            return Results.Json(new { principal = principal.Display, role = Security.Roles.Name(principal.Role), environment = env }, Json);
        }));
        board.MapGet("/api/fleet", Handler(http => Read(http, EnvironmentOnly, (data, env, _) => Box(data.FleetAsync(env)))));
        board.MapGet("/api/pools", Handler(http => Read(http, EnvironmentOnly, (data, env, _) => Box(data.PoolsAsync(env)))));
        board.MapGet("/api/backups", Handler(http => Read(http, EnvironmentOnly, (data, env, _) => Box(data.BackupsAsync(env)))));
        board.MapGet("/api/alerts", Handler(http => Read(http, EnvironmentOnly, (data, env, _) => Box(data.AlertsAsync(env)))));
        board.MapGet("/api/decisions", Handler(http => Read(http, ["environment", "limit"], (data, env, q) => Box(data.DecisionsAsync(env, Limit(q))))));
        board.MapGet("/api/coverage", Handler(http => Read(http, EnvironmentOnly, (data, env, _) =>
            Box(data.CoverageAsync(env, http.RequestServices.GetRequiredService<Coverage.CoverageGatherer>())))));
        board.MapGet("/api/runbook", Handler(http => Read(http, ["environment", "kind", "tier"], (data, env, q) =>
            Box(data.RunbookAsync(env, RunbookKind(q), TierName(q), http.RequestServices.GetRequiredService<Runbooks.RunbookRenderer>())))));
        board.MapGet("/api/events", Handler(async http =>
        {
            var query = Query(http, EnvironmentOnly);
            var (principal, generation) = await Access(http).AdmitAsync(http);
            await http.RequestServices.GetRequiredService<BoardEvents>().RunAsync(http, principal, generation, Environment(http, query));
            return Results.Empty;
        }));
    }

    /// <summary>Typed as a route handler (not a bare RequestDelegate), so the group's filter runs and the result is written.</summary>
    private static Delegate Handler(Func<HttpContext, Task<IResult>> handler) => handler;

    private static async Task<IResult> Read(HttpContext http, string[] allowed, Func<BoardData, string, IQueryCollection, Task<object>> read)
    {
        var query = Query(http, allowed);
        await Access(http).AdmitAsync(http);
        var env = Environment(http, query);
        return Results.Json(await read(http.RequestServices.GetRequiredService<BoardData>(), env, query), Json);
    }

    private static async Task<object> Box<T>(Task<T> task) where T : notnull => await task;

    private static BoardAccess Access(HttpContext http) => http.RequestServices.GetRequiredService<BoardAccess>();

    /// <summary>Unknown or repeated parameters are refused, so a typo never silently shows the default.</summary>
    private static IQueryCollection Query(HttpContext http, string[] allowed)
    {
        var query = http.Request.Query;
        foreach (var (key, values) in query)
        {
            if (!allowed.Contains(key, StringComparer.Ordinal))
            {
                throw new BoardProblem(StatusCodes.Status400BadRequest, allowed.Length == 0
                    ? $"query parameter '{Gateway.RequestValidation.Shown(key)}' is not known; this endpoint takes none."
                    : $"query parameter '{Gateway.RequestValidation.Shown(key)}' is not known; expected: {string.Join(", ", allowed)}.");
            }
            if (values.Count > 1) throw new BoardProblem(StatusCodes.Status400BadRequest, $"query parameter '{key}' is given {values.Count} times; expected once.");
        }
        return query;
    }

    private static string Environment(HttpContext http, IQueryCollection query)
    {
        var value = query["environment"].ToString();
        if (value.Length == 0) return http.RequestServices.GetRequiredService<IOptions<ControlPlaneOptions>>().Value.Environment;
        if (!FleetKeys.IsValidName(value))
            throw new BoardProblem(StatusCodes.Status400BadRequest, $"environment '{Gateway.RequestValidation.Shown(value)}' is invalid; expected a name matching {FleetKeys.NamePattern}.");
        return value;
    }

    private static string RunbookKind(IQueryCollection query)
    {
        var value = query["kind"].ToString();
        if (!Runbooks.RunbookKinds.IsKnown(value))
            throw new BoardProblem(StatusCodes.Status400BadRequest, $"kind '{Gateway.RequestValidation.Shown(value)}' is not a runbook; expected one of {Runbooks.RunbookKinds.Expected}.");
        return value;
    }

    private static string TierName(IQueryCollection query)
    {
        var value = query["tier"].ToString();
        if (!FleetKeys.IsValidName(value))
            throw new BoardProblem(StatusCodes.Status400BadRequest, $"tier '{Gateway.RequestValidation.Shown(value)}' is invalid; expected a name matching {FleetKeys.NamePattern}.");
        return value;
    }

    private static int Limit(IQueryCollection query)
    {
        var value = query["limit"].ToString();
        if (value.Length == 0) return 50;
        if (!int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var limit)
            || limit is < 1 or > BoardData.MaxDecisions)
        {
            throw new BoardProblem(StatusCodes.Status400BadRequest, $"limit '{Gateway.RequestValidation.Shown(value)}' is invalid; expected a whole number from 1 to {BoardData.MaxDecisions}.");
        }
        return limit;
    }

    private static IResult Asset(HttpContext http, string name)
    {
        var assets = http.RequestServices.GetRequiredService<BoardAssets>();
        if (!assets.TryGet(name, out var content, out var type)) return Problem(StatusCodes.Status404NotFound, $"no board asset named '{Gateway.RequestValidation.Shown(name)}'.");
        http.Response.Headers.CacheControl = "no-cache";
        return Results.Bytes(content, type);
    }

    public static IResult Problem(int status, string message)
    {
        var result = Results.Json(new { error = message, status }, Json, statusCode: status);
        return status == StatusCodes.Status401Unauthorized ? new Challenge(result) : result;
    }

    private static IResult Failure(HttpContext http, Exception ex)
    {
        switch (ex)
        {
            case BoardProblem problem:
                return Problem(problem.Status, problem.Message);
            case OperationCanceledException when http.RequestAborted.IsCancellationRequested:
                return Results.Empty;
            case TimeoutException or OrleansException:
                http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("ControlPlane.Silo.Board")
                    .LogWarning("Board request {Path} could not reach the grains: {Error}", http.Request.Path.Value, ex.Message);
                return Problem(StatusCodes.Status503ServiceUnavailable, "the fleet's grains did not answer in time; retry in a moment.");
            default:
                http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("ControlPlane.Silo.Board")
                    .LogError(ex, "Board request {Path} failed", http.Request.Path.Value);
                return Problem(StatusCodes.Status500InternalServerError, "the board could not answer this request; the silo's log has the details.");
        }
    }

    /// <summary>A 401 says which scheme to use, as HTTP asks.</summary>
    private sealed class Challenge(IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.WWWAuthenticate = "Bearer realm=\"controlplane-board\"";
            return inner.ExecuteAsync(httpContext);
        }
    }
}
