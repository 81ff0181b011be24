using System.Globalization;
using Apertur.Server.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Storage;

/// <summary>
/// <c>Apertur.Server storage migrate</c>: copies the image of every image row from the local store
/// (<c>{DataDirectory}/images</c>) into the S3 bucket the settings name (<c>Apertur:Storage:Kind=s3</c>), then exits
/// (docs/deploy.md "Image store on S3"). Resumable: an object already there with the file's size and SHA-256 is left
/// alone. Verified: each copy is checked as an upload is (size and SHA-256 read back). Local files are never deleted.
/// Exit 0 only when every image row's bytes are in the bucket.
/// </summary>
public static class StorageCommand
{
    private const string Usage = "usage: storage migrate   (with Apertur:Storage:Kind=s3 and the Apertur:Storage:S3:* settings of the bucket)";

    public static bool Matches(string[] args) => args.Length > 0 && args[0] == "storage";

    public static async Task<int> RunAsync(string[] args, IServiceProvider services)
    {
        if (args.Length != 2 || args[1] != "migrate")
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }
        if (services.GetRequiredService<StorageOptions>().Kind != StorageKind.S3)
        {
            await Console.Error.WriteLineAsync("storage migrate copies the local images into the S3 bucket of the settings: set Apertur:Storage:Kind=s3 "
                + "and Apertur:Storage:S3:* (the same settings the server will run with) and run it again.");
            return 2;
        }
        var store = services.GetRequiredService<S3ImageStore>();
        try
        {
            await store.ProbeAsync(CancellationToken.None);
        }
        catch (ImageStoreUnavailableException e)
        {
            await Console.Error.WriteLineAsync(e.StartFailure());
            return 1;
        }
        var exit = 1;
        return await Startup.TryOnDatabaseAsync(services, async () => exit = await MigrateAsync(services, store))
            ? exit
            : 1;
    }

    private static async Task<int> MigrateAsync(IServiceProvider services, S3ImageStore store)
    {
        await Startup.MigrateAsync(services, CancellationToken.None);
        var imagesDirectory = Path.Combine(AperturOptions.ResolveDataDirectory(services.GetRequiredService<IConfiguration>()), "images");
        List<Guid> ids;
        await using (var scope = services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<Data.AperturDb>();
            ids = await db.Images.AsNoTracking().OrderBy(i => i.Id).Select(i => i.Id).ToListAsync();
        }
        var output = Console.Out;
        await output.WriteLineAsync($"storage migrate: {Count(ids.Count)} images from {imagesDirectory} to the S3 bucket \"{store.Bucket}\"");
        int copied = 0, present = 0, missing = 0, failed = 0;
        for (var n = 0; n < ids.Count; n++)
        {
            var id = ids[n];
            var path = LocalDiskImageStore.PathOf(imagesDirectory, id);
            string outcome;
            if (!File.Exists(path))
            {
                missing++;
                outcome = $"MISSING: no local file {path}";
            }
            else
            {
                try
                {
                    if (await store.CopyInAsync(id, path, CancellationToken.None))
                    {
                        copied++;
                        outcome = "copied and verified";
                    }
                    else
                    {
                        present++;
                        outcome = "already in the bucket";
                    }
                }
                catch (ImageStoreUnavailableException e)
                {
                    failed++;
                    outcome = $"FAILED: {e.Message}";
                }
            }
            await output.WriteLineAsync($"[{Count(n + 1)}/{Count(ids.Count)}] {id} → {store.KeyOf(id)}: {outcome}");
        }
        var done = copied + present == ids.Count;
        await output.WriteLineAsync($"storage migrate: {Count(copied)} copied, {Count(present)} already in the bucket, {Count(missing)} missing locally, "
            + $"{Count(failed)} failed. "
            + (done
                ? "Every image is in the bucket: start the server with Apertur:Storage:Kind=s3. The local files are kept: remove the images/ folder of the data directory once the server runs on S3."
                : "Not every image is in the bucket: fix what is reported above and run storage migrate again (copied images are not copied twice)."));
        return done ? 0 : 1;
    }

    private static string Count(int value) => value.ToString(CultureInfo.InvariantCulture);
}
