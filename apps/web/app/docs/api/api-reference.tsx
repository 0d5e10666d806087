"use client";
import dynamic from "next/dynamic";

// Redoc renders in the browser only: its styled-components styles are not
// collected during server rendering. Everything it needs is bundled from npm.
const RedocStandalone = dynamic(() => import("redoc").then((m) => m.RedocStandalone), {
  ssr: false,
  loading: () => <p className="muted">Loading the API reference…</p>,
});

export function ApiReference({ spec }: { spec: object }) {
  return (
    <div className="api-reference" data-testid="api-reference">
      <RedocStandalone
        spec={spec}
        options={{
          hideDownloadButtons: false,
          expandResponses: "200,202",
          jsonSampleExpandLevel: 3,
          sortRequiredPropsFirst: true,
          nativeScrollbars: true,
          theme: {
            colors: { primary: { main: "#4b3fd1" } },
            typography: { fontFamily: "system-ui, -apple-system, 'Segoe UI', sans-serif", headings: { fontFamily: "system-ui, -apple-system, 'Segoe UI', sans-serif" } },
          },
        }}
      />
    </div>
  );
}
