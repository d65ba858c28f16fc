package jumpcloud.opensearch;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import org.codelibs.opensearch.runner.OpenSearchRunner;

/**
 * One OpenSearch node on 127.0.0.1 for the tests: HTTP on the given port, data under the given directory
 * (kept across restarts of this process, so a test can stop and start the same node), no security plugin.
 * Prints one "ready" line on stdout once the cluster is green; SIGTERM closes the node cleanly.
 *
 * Usage: java -Xms512m -Xmx512m -jar opensearch-node.jar PORT DATA_DIR
 */
public final class OpenSearchNode {
  public static void main(String[] args) throws Exception {
    if (args.length != 2 || !args[0].matches("\\d{1,5}")) {
      System.err.println("usage: java -jar opensearch-node.jar PORT DATA_DIR");
      System.exit(2);
    }
    final int port = Integer.parseInt(args[0]);
    final Path dir = Path.of(args[1]).toAbsolutePath();
    Files.createDirectories(dir);
    final long t0 = System.nanoTime();

    final OpenSearchRunner runner = new OpenSearchRunner();
    runner.onBuild((index, settings) -> {
      settings.put("network.host", "127.0.0.1");
      settings.put("http.port", Integer.toString(port));
      // Any free transport port: the node talks to no other node, and CI may run two nodes at once.
      settings.put("transport.port", "0");
      // No 3 s wait for peers before the node elects itself.
      settings.put("discovery.type", "single-node");
      // A nearly full CI disk must not turn the test indices read-only.
      settings.put("cluster.routing.allocation.disk.threshold_enabled", "false");
      settings.put("action.auto_create_index", "true");
    });
    runner.setMaxHttpPort(port); // the runner would otherwise look for a free one up to 9299
    runner.build(OpenSearchRunner.newConfigs()
        .basePath(dir.toString())
        .numOfNode(1)
        .baseHttpPort(port - 1) // node 1 listens on base + 1
        .clusterName("fluent-bit-jumpcloud-test")
        .printOnFailure()
        // Only what the tests use: HTTP, and the mapper types outside the server (start-up is much
        // shorter without painless, mustache, ingest, reindex...).
        .moduleTypes("org.opensearch.transport.Netty4Plugin,org.opensearch.index.mapper.MapperExtrasPlugin"));
    runner.ensureGreen();

    final CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        runner.close();
      } catch (Exception e) {
        System.err.println("opensearch-node: close failed: " + e);
      }
      stopped.countDown();
    }));
    final long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.println("opensearch-node ready http://127.0.0.1:" + port + " in " + ms + " ms");
    System.out.flush();
    stopped.await();
  }
}
