package mongoslice.javaserver;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.net.InetSocketAddress;

/**
 * Runs mongo-java-server (in-memory backend) on 127.0.0.1 for mongoslice's integration suite and
 * demo, with its command log on.
 *
 * <pre>
 *   java -cp 'DIR/*:DIR/lib/*' mongoslice.javaserver.Launcher [--port N] [--log FILE]
 * </pre>
 *
 * <p>--port 0 (the default) lets the kernel pick a free port. Once the server accepts
 * connections, one line "listening on 127.0.0.1:PORT" goes to standard output. The log (FILE,
 * else standard error) has MongoWireProtocolHandler at DEBUG, which prints every request it
 * receives, killCursors included; everything else logs at INFO. SIGTERM shuts the server down.
 */
public final class Launcher {
  private Launcher() {}

  public static void main(String[] args) throws Exception {
    int port = 0;
    String logFile = "System.err";
    for (int i = 0; i < args.length; ++i) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      if (args[i].equals("--port") && value != null) {
        port = Integer.parseInt(value);
        ++i;
      } else if (args[i].equals("--log") && value != null) {
        logFile = value;
        ++i;
      } else {
        System.err.println("usage: Launcher [--port N] [--log FILE]");
        System.exit(2);
      }
    }
    configureLogging(logFile);

    MongoServer server = new MongoServer(new MemoryBackend());
    server.bind("127.0.0.1", port);
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow, "shutdown"));
    InetSocketAddress address = server.getLocalAddress();
    System.out.println("listening on 127.0.0.1:" + address.getPort());
    System.out.flush();
    Thread.currentThread().join();  // netty's threads serve; this one waits for SIGTERM
  }

  // slf4j-simple reads these once, when the first logger is made, so they are set before
  // anything of mongo-java-server is touched.
  private static void configureLogging(String logFile) {
    String prefix = "org.slf4j.simpleLogger.";
    System.setProperty(prefix + "logFile", logFile);
    System.setProperty(prefix + "defaultLogLevel", "info");
    System.setProperty(prefix + "log.de.bwaldvogel.mongo.wire.MongoWireProtocolHandler", "debug");
    System.setProperty(prefix + "showDateTime", "true");
    System.setProperty(prefix + "dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
    System.setProperty(prefix + "showThreadName", "false");
  }
}
