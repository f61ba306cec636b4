using Microsoft.Playwright;

namespace ControlPlane.IntegrationTests.Board;

/// <summary>
/// Debian's Chromium (/usr/bin/chromium, installed by tests/setup/chromium.sh) driven by Playwright's .NET driver,
/// with a fresh profile directory per browser. Playwright's own browser download is never used.
/// </summary>
internal sealed class BoardBrowser : IAsyncDisposable
{
    public const string Chromium = "/usr/bin/chromium";

    // Without the background-networking flags Chromium keeps dialling Google's hosts, which this network refuses.
    private static readonly string[] Flags =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private readonly IPlaywright _playwright;
    private readonly string _profile;

    private BoardBrowser(IPlaywright playwright, IBrowserContext context, string profile) =>
        (_playwright, Context, _profile) = (playwright, context, profile);

    public IBrowserContext Context { get; }

    /// <summary>Where screenshots go: the test output directory's artifacts/board.</summary>
    public static string Artifacts { get; } = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts", "board")).FullName;

    public static async Task<BoardBrowser> LaunchAsync()
    {
        if (!File.Exists(Chromium)) throw new InvalidOperationException($"{Chromium} is missing: run tests/setup/chromium.sh (tests/run.sh does).");
        var profile = Path.Combine(Path.GetTempPath(), "cp-board-chromium-" + Guid.NewGuid().ToString("N")[..8]);
        var playwright = await Playwright.CreateAsync();
        try
        {
            var context = await playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
            {
                ExecutablePath = Chromium,
                Headless = true,
                Args = Flags,
                ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
                Timeout = 120_000,
            });
            context.SetDefaultTimeout(60_000);
            return new BoardBrowser(playwright, context, profile);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    public async Task<IPage> OpenAsync(Uri board)
    {
        var page = Context.Pages.Count > 0 ? Context.Pages[0] : await Context.NewPageAsync();
        await page.GotoAsync(board.ToString());
        return page;
    }

    /// <summary>Signs in through the form, as a person would, and waits until the fleet page has data.</summary>
    public static async Task SignInAsync(IPage page, string token)
    {
        await page.FillAsync("#token", token);
        await page.PressAsync("#token", "Enter");
        // The first page needs the fleet read through the shared silo: on a machine running the whole suite that has
        // once taken longer than the context's 60 s (CI of 5d4b1e9).
        await page.WaitForSelectorAsync("body[data-loaded]", new() { Timeout = 180_000 });
    }

    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(Artifacts, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await Context.DisposeAsync();
        _playwright.Dispose();
        Support.TestDirectory.DeleteQuietly(_profile);
    }
}
