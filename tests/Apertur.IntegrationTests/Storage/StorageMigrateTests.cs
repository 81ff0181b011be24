using System.Net;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Deliveries;
using Apertur.Tests;
using Shouldly;

namespace Apertur.IntegrationTests.Storage;

/// <summary>
/// Moving an installation from the local disk to S3 (docs/deploy.md "Image store on S3"): a server on local disk takes
/// the sample photos, stops, <c>storage migrate</c> (the real executable) copies them into the bucket, a second run copies
/// nothing, and a server on the bucket alone (the local images removed) downloads and delivers them byte for byte.
/// </summary>
public sealed class StorageMigrateTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task StorageMigrate_LocalImages_CopiedOnceThenServedAndDeliveredFromTheBucket(string database)
    {
        using var s3 = new S3Server();
        var bucket = await s3.NewBucketAsync();
        await using var receiver = await TestReceiver.StartAsync();
        var local = await TestApp.StartAsync(database, kestrel: true);
        var destination = await DeliveryKit.WebhookAsync(local, receiver.Url(), format: "binary");
        var sessionId = await DeliveryKit.SessionAsync(local, destination);
        var uploaded = new Dictionary<Guid, string>();
        foreach (var (fixture, _) in SamplePhotos.All)
        {
            uploaded[await DeliveryKit.UploadAsync(local, sessionId, fixture)] = fixture;
        }
        var settings = new Dictionary<string, string?>(local.Settings);
        foreach (var (key, value) in S3ImageStoreTests.S3Settings(bucket))
        {
            settings[key] = value;
        }

        (int Exit, string Out, string Err) first = (-1, "", ""), second = (-1, "", "");
        var restarted = await local.RestartAsync(async () =>
        {
            first = await ServerProcess.RunToExitAsync(["storage", "migrate"], ServerProcess.AsEnvironment(settings), local.DataDirectory);
            second = await ServerProcess.RunToExitAsync(["storage", "migrate"], ServerProcess.AsEnvironment(settings), local.DataDirectory);
            // Switched: the bucket alone holds the images now.
            Directory.Delete(Path.Combine(local.DataDirectory, "images"), recursive: true);
        });
        await using var _ = restarted;

        first.Exit.ShouldBe(0, first.Out + first.Err);
        first.Out.ShouldContain("5 copied, 0 already in the bucket, 0 missing locally, 0 failed", customMessage: first.Out);
        second.Exit.ShouldBe(0, second.Out + second.Err);
        second.Out.ShouldContain("0 copied, 5 already in the bucket, 0 missing locally, 0 failed", customMessage: second.Out);
        foreach (var (id, fixture) in uploaded)
        {
            (await s3.GetAsync(bucket, $"images/{id:N}")).ShouldBe(Fixture.Bytes(fixture), fixture);
        }

        // Another server beside the restarted one (on a port of its own), on the bucket, its delivery worker on.
        var s3Settings = DeliveryKit.Settings(S3ImageStoreTests.S3Settings(bucket));
        s3Settings["Urls"] = "http://127.0.0.1:0";
        await using var onS3 = await restarted.StartAnotherAsync(s3Settings);
        foreach (var (id, fixture) in uploaded)
        {
            using var download = await onS3.Client.GetAsync($"/api/v1/uploads/{id}/download");
            download.StatusCode.ShouldBe(HttpStatusCode.OK, fixture);
            (await download.Content.ReadAsByteArrayAsync()).ShouldBe(Fixture.Bytes(fixture), fixture);
            await DeliveryKit.WaitForStatusAsync(onS3, id, DeliveryStatus.Sent);
        }
        var bodies = (await receiver.WaitForAsync(uploaded.Count)).Select(r => Convert.ToBase64String(r.Body)).Order().ToList();
        bodies.ShouldBe(uploaded.Values.Select(f => Convert.ToBase64String(Fixture.Bytes(f))).Order().ToList());
    }

    [Fact]
    public async Task StorageMigrate_LocalStoreConfigured_RefusesWithWhatToSet()
    {
        var (exit, _, stderr) = await ServerProcess.RunToExitAsync(["storage", "migrate"]);

        exit.ShouldBe(2);
        stderr.ShouldContain("Apertur:Storage:Kind=s3");
    }
}
