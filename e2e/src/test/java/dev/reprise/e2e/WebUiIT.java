package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reprise.testing.TestGitRepo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * The web UI in headless Chromium (Debian's chromium and chromium-driver): request a build and
 * watch it live, ask again and see it replayed with the Cached badge at 2x, force a fresh build,
 * and find the hit on the cache page's chart. Screenshots go to target/screenshots. Alone: a page load
 * and a 2x replay judged by the clock in a browser starved by Maven, Gradle and npm builds running beside it
 * timed out once (the sign-in form not shown within 90 s, 2026-12-03).
 */
@Isolated
class WebUiIT {

    private static final Path SCREENSHOTS = Path.of("target", "screenshots");
    private static WebDriver browser;
    private static WebDriverWait wait;

    @BeforeAll
    static void open() throws Exception {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1366,900");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(Path.of(System.getenv().getOrDefault("CHROMEDRIVER", "/usr/bin/chromedriver")).toFile())
                .build();
        browser = new ChromeDriver(service, options);
        wait = new WebDriverWait(browser, Duration.ofSeconds(90));
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterAll
    static void close() {
        if (browser != null) {
            browser.quit();
        }
    }

    @Test
    void requestWatchLiveReplayCachedAt2xForceFreshAndSeeTheHitRate() throws Exception {
        String repo = TestGitRepo.withBuildScript(
                "for i in $(seq 1 15); do echo \"compiling module $i\"; sleep 0.1; done; echo 'warning: deprecated' >&2").url();
        browser.get("http://127.0.0.1:" + Services.PORTS.get("gateway") + "/");

        // Sign in once with the API token.
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token"))).sendKeys(Services.token());
        browser.findElement(By.cssSelector("#login-form button")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("who"), "Development"));

        // Request a build and watch it stream live.
        request(repo, false);
        assertThat(mode()).isEqualTo("live");
        wait.until(d -> terminal().contains("compiling module 15"));
        wait.until(ExpectedConditions.attributeToBe(By.id("status"), "data-status", "SUCCESS"));
        assertThat(terminal()).contains("==> step 2: build", "compiling module 1", "warning: deprecated", "==> SUCCESS");
        screenshot("1-live");
        String liveBuild = currentBuild();

        // The same request again: a cache hit, replayed, with the Cached badge; at 2x.
        browser.get("http://127.0.0.1:" + Services.PORTS.get("gateway") + "/#/");
        request(repo, false);
        wait.until(d -> !currentBuild().equals(liveBuild));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("mode"), "Cached"));
        assertThat(mode()).isEqualTo("cached");
        assertThat(browser.findElement(By.id("mode")).getText()).isEqualTo("Cached · Fresh");
        browser.findElement(By.id("speed-2")).click();
        wait.until(ExpectedConditions.attributeToBe(By.id("status"), "data-status", "SUCCESS"));
        assertThat(terminal()).contains("compiling module 15", "==> SUCCESS");
        assertThat(browser.findElement(By.id("saved")).getText()).startsWith("This replay saved a ");
        // Seek: start the replay at the build step.
        wait.until(ExpectedConditions.elementToBeClickable(By.cssSelector("#steps button[data-step='build']"))).click();
        wait.until(ExpectedConditions.attributeToBe(By.id("status"), "data-status", "SUCCESS"));
        assertThat(terminal()).contains("==> step 2: build").doesNotContain("==> step 1: checkout");
        screenshot("2-cached-2x");

        // Force fresh: a new live build.
        String cachedBuild = currentBuild();
        browser.findElement(By.id("force-fresh")).click();
        wait.until(d -> !currentBuild().equals(cachedBuild));
        wait.until(ExpectedConditions.attributeToBe(By.id("mode"), "data-mode", "live"));
        wait.until(ExpectedConditions.attributeToBe(By.id("status"), "data-status", "SUCCESS"));
        assertThat(terminal()).contains("compiling module 15");
        screenshot("3-fresh");

        // The builds list shows all three; the cache page charts the hit rate.
        browser.get("http://127.0.0.1:" + Services.PORTS.get("gateway") + "/#/builds");
        new Select(wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("filter-status")))).selectByValue("SUCCESS");
        browser.findElement(By.id("filter-repository")).sendKeys(repo);
        browser.findElement(By.cssSelector("#filter button")).click();
        wait.until(d -> d.findElements(By.cssSelector("#builds tbody tr")).size() == 3);

        // The hit reopened in a browser session that did not request it: its label still comes from the API.
        ((org.openqa.selenium.JavascriptExecutor) browser).executeScript(
                "const t = sessionStorage.getItem('reprise.token'); sessionStorage.clear(); sessionStorage.setItem('reprise.token', t);");
        browser.get("http://127.0.0.1:" + Services.PORTS.get("gateway") + "/#/builds/" + cachedBuild);
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("mode"), "Cached"));
        assertThat(browser.findElement(By.id("mode")).getText()).isEqualTo("Cached · Fresh");
        browser.get("http://127.0.0.1:" + Services.PORTS.get("gateway") + "/#/admin");
        WebElement chart = wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#hit-rate-chart[data-points]")));
        assertThat(Integer.parseInt(chart.getAttribute("data-points"))).as("hours with cache traffic").isPositive();
        assertThat(browser.findElements(By.cssSelector("#hit-rate-chart canvas"))).isNotEmpty();
        screenshot("4-cache");

        // A stale hit (an old, popular recording): served at once, with a warning that links to its refresh.
        String oldRepo = TestGitRepo.withBuildScript("echo 'built long ago'").url();
        browser.get("http://127.0.0.1:" + Services.PORTS.get("gateway") + "/#/");
        request(oldRepo, false);
        wait.until(ExpectedConditions.attributeToBe(By.id("status"), "data-status", "SUCCESS"));
        String first = currentBuild();
        String key = Services.getAuthorized("gateway", "/api/v1/builds/" + first).body().path("cacheKey").asText();
        Builds.awaitRecording(key, first);
        Services.sql("UPDATE replay.recordings SET created_at = now() - interval '9 days', access_count = 10 WHERE cache_key = '"
                + key + "'");
        browser.get("http://127.0.0.1:" + Services.PORTS.get("gateway") + "/#/");
        request(oldRepo, false);
        wait.until(d -> !currentBuild().equals(first));
        WebElement warning = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("stale")));
        assertThat(warning.getText()).startsWith("Cached 9 days ago — refreshing");
        String refresh = Services.getAuthorized("gateway", "/api/v1/builds/" + currentBuild()).body().path("refreshBuildId").asText();
        assertThat(browser.findElement(By.id("refresh-link")).getAttribute("href")).endsWith("#/builds/" + refresh);
        screenshot("5-stale");
    }

    private static void request(String repo, boolean fresh) {
        WebElement repository = wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("repository")));
        repository.clear();
        repository.sendKeys(repo);
        WebElement ref = browser.findElement(By.id("ref"));
        ref.clear();
        ref.sendKeys("main");
        new Select(browser.findElement(By.id("tool"))).selectByValue("custom");
        WebElement command = browser.findElement(By.id("command"));
        command.clear();
        command.sendKeys("./build.sh");
        if (fresh) {
            browser.findElement(By.id("fresh")).click();
        }
        browser.findElement(By.cssSelector("#build-form button")).click();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#mode[data-mode]")));
    }

    private static String mode() {
        return browser.findElement(By.id("mode")).getAttribute("data-mode");
    }

    private static String currentBuild() {
        String url = browser.getCurrentUrl();
        return url.contains("#/builds/") ? url.substring(url.indexOf("#/builds/") + 9) : "";
    }

    /** The terminal's text, row by row (xterm's DOM renderer). */
    private static String terminal() {
        return browser.findElement(By.cssSelector("#terminal .xterm-rows")).getText();
    }

    private static void screenshot(String name) throws Exception {
        Path file = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
        Files.copy(file, SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }
}
